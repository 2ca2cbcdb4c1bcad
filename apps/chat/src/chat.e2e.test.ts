/**
 * The chat sample in Chromium: pages on one process, over HTTP/2, on two nodes over Redis, on Bun;
 * what the page shows (times, own messages, the transport, the node, the server's own words, the
 * icon); and what it shows when Redis is lost or answers nothing. Screenshots go to
 * apps/chat/test-output/ (git-ignored) and are named in each test's report.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { launchChromium, RedisProcess, selfSignedCertificate } from "@hubwire/test-support";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { type ChatServer, startChatServer } from "./chat-server.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const output = fileURLToPath(new URL("../test-output/", import.meta.url));

let browser: Browser;
beforeAll(async () => {
  // The page script comes from the build; build it if this run has not.
  execFileSync(process.execPath, ["scripts/bundle-page.mjs"], { cwd: packageDir });
  mkdirSync(output, { recursive: true });
  // The HTTP/2 scenario's certificate is self-signed.
  browser = await launchChromium(["--ignore-certificate-errors"]);
});
afterAll(async () => {
  await browser?.close();
});

const newRoom = () => `room-${Math.random().toString(36).slice(2, 8)}`;

/** A page at `url`, connected (not in a room yet). */
async function openPage(url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]");
  return page;
}

async function openChat(url: string, name: string, room = "lobby"): Promise<Page> {
  const page = await openPage(url);
  await page.fill("#name", name);
  await page.fill("#room", room);
  await page.click("#join button");
  await page.waitForFunction(() => document.querySelector("#messages")?.textContent?.includes("You joined"));
  return page;
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

/** The lines as a person reads them, a message without its time: "Ada: hello", "Bob joined". */
const lines = (page: Page, selector = "#messages li") =>
  page.$$eval(selector, (items) =>
    items.map((item) =>
      item.classList.contains("message")
        ? `${item.querySelector(".user")?.textContent}: ${item.querySelector(".text")?.textContent}`
        : (item.textContent ?? ""),
    ),
  );
const waitForLine = (page: Page, text: string) =>
  page.waitForFunction(
    (expected) =>
      [...document.querySelectorAll("#messages li")].some(
        (item) =>
          (item.classList.contains("message")
            ? `${item.querySelector(".user")?.textContent}: ${item.querySelector(".text")?.textContent}`
            : item.textContent) === expected,
      ),
    text,
  );

/** Each message's time: the machine-readable one and the one shown. */
const times = (page: Page) =>
  page.$$eval("#messages li.message", (items) =>
    items.map((item) => ({ at: item.querySelector("time")?.dateTime ?? "", shown: item.querySelector("time")?.textContent ?? "" })),
  );

/** The `data-transport` of the highlighted transport link. */
const activeTransport = (page: Page) =>
  page.$$eval("a[data-transport][aria-current]", (links) => links.map((link) => (link as HTMLElement).dataset["transport"]));

/** The id of the node serving the page, once the server has said it. */
async function nodeOf(page: Page): Promise<string> {
  await page.waitForSelector("#node[data-node-id]");
  return (await page.getAttribute("#node", "data-node-id")) ?? "";
}

/**
 * Saves a screenshot under test-output/ and names it in the test's report. Not attached: vitest
 * would copy each file into another folder.
 */
async function screenshot(page: Page, file: string, context: TestContext): Promise<void> {
  const path = `${output}${file}`;
  await page.screenshot({ path, fullPage: true });
  await context.annotate(`screenshot: ${path}`, "screenshot");
}

/** A running chat for a scenario; `check` asserts what is particular to it, once the pages are done. */
interface Running {
  readonly urls: [string, string];
  /** The ids of the nodes serving `urls`, as the pages must show them. */
  readonly nodeIds: [string, string];
  readonly rooms: "memory" | "redis";
  close(): Promise<void>;
  check?(): void;
}

function chatScenario(title: string, slug: string, start: () => Promise<Running>): void {
  describe(title, () => {
    let running: Running;
    beforeAll(async () => {
      running = await start();
    });
    afterAll(() => running?.close());

    it("two pages in a room exchange messages (one forced to long polling), a late joiner gets the history, leaving is announced", async (context) => {
      const startedAt = Date.now();
      const { urls } = running;
      const room = newRoom();
      const ada = await openChat(urls[0], "Ada", room);
      const bob = await openChat(`${urls[1]}?transport=LongPolling`, "Bob", room);
      expect(await bob.textContent("#status")).toBe("Connected over LongPolling");
      expect(await ada.textContent("#status")).toBe("Connected over WebSockets");
      await waitForLine(ada, "Bob joined");
      await say(ada, "hello from Ada");
      await waitForLine(bob, "Ada: hello from Ada");
      await say(bob, "hi Ada, Bob here");
      await waitForLine(ada, "Bob: hi Ada, Bob here");
      await bob.type("#text", "typing…");
      await ada.waitForFunction(() => document.querySelector("#typing")?.textContent === "Bob is typing…");

      const cat = await openChat(urls[1], "Cat", room);
      expect(await lines(cat)).toEqual(["Ada: hello from Ada", "Bob: hi Ada, Bob here", `You joined ${room}`]);
      expect(await cat.$$eval("#who li", (items) => items.map((item) => item.textContent))).toEqual(["Ada", "Bob", "Cat"]);
      await checkPages(running, [ada, bob, cat], startedAt);
      await screenshot(bob, `chat-e2e-${slug}-long-polling.png`, context);

      await bob.click("#leave");
      await waitForLine(ada, "Bob left");
      // Bob was typing when he left: his indicator goes with him.
      expect(await ada.textContent("#typing")).toBe("");
      await waitForLine(cat, "Bob left");
      expect(await ada.$$eval("#who li", (items) => items.map((item) => item.textContent))).toEqual(["Ada", "Cat"]);
      // Closing a tab leaves too (the page stops its connection on pagehide).
      await cat.close({ runBeforeUnload: true });
      await waitForLine(ada, "Cat left");
      await bob.close();
      await screenshot(ada, `chat-e2e-${slug}.png`, context);
      await ada.close();
      running.check?.();
    });
  });
}

/** What the pages show beyond the messages: their times, whose they are, the transport, the node, the icon. */
async function checkPages({ nodeIds, rooms }: Running, [ada, bob, cat]: [Page, Page, Page], startedAt: number): Promise<void> {
  // Each page marks its own messages, and only those.
  expect(await lines(ada, "#messages li.mine")).toEqual(["Ada: hello from Ada"]);
  expect(await lines(bob, "#messages li.mine")).toEqual(["Bob: hi Ada, Bob here"]);
  expect(await lines(cat, "#messages li.mine")).toEqual([]);
  // Every message, live or from the history, carries the server's time of it.
  for (const page of [ada, bob, cat]) {
    const stamps = await times(page);
    expect(stamps).toHaveLength(2);
    for (const { at, shown } of stamps) {
      expect(Date.parse(at)).toBeGreaterThanOrEqual(startedAt);
      expect(Date.parse(at)).toBeLessThanOrEqual(Date.now());
      expect(shown).toMatch(/\d{1,2}:\d{2}/);
    }
  }
  // The transport in use is the highlighted link.
  expect(await activeTransport(ada)).toEqual(["WebSockets"]);
  expect(await activeTransport(bob)).toEqual(["LongPolling"]);
  // Each page says which node serves it: on two nodes over Redis, two different ids.
  expect([await nodeOf(ada), await nodeOf(bob), await nodeOf(cat)]).toEqual([nodeIds[0], nodeIds[1], nodeIds[1]]);
  if (rooms === "redis") expect(nodeIds[0]).not.toBe(nodeIds[1]);
  expect(await ada.textContent("#node")).toBe(`Served by node ${nodeIds[0]} (${rooms === "memory" ? "in memory" : "shared over Redis"}).`);
  expect(await ada.isHidden("#backplane")).toBe(true);
  // The icon is an image the browser can draw (no request for a missing /favicon.ico).
  const icon = await ada.evaluate(async () => {
    const href = document.querySelector<HTMLLinkElement>("link[rel~=icon]")?.href ?? "";
    const image = new Image();
    image.src = href;
    await image.decode();
    return { kind: href.slice(0, href.indexOf(",")), width: image.naturalWidth };
  });
  expect(icon).toEqual({ kind: "data:image/svg+xml", width: 32 });
}

chatScenario("the chat sample, one process in memory", "memory", async () => {
  const chat: ChatServer = await startChatServer({ port: 0 });
  return { urls: [chat.url, chat.url], nodeIds: ["local", "local"], rooms: "memory", close: () => chat.close() };
});

chatScenario("the chat sample over HTTPS, pages and hub on HTTP/2", "http2", async () => {
  const chat: ChatServer = await startChatServer({ port: 0, tls: selfSignedCertificate() });
  // Every stream the hub is asked for arrives over HTTP/2: the WebSocket as an extended CONNECT.
  const hubStreams: string[] = [];
  chat.server.on("stream", (_stream: unknown, headers: Record<string, string>) => {
    if (headers[":path"]?.startsWith("/chat")) hubStreams.push(headers[":method"]!);
  });
  return {
    urls: [chat.url, chat.url],
    nodeIds: ["local", "local"],
    rooms: "memory",
    close: () => chat.close(),
    check() {
      expect(hubStreams).toContain("CONNECT");
      expect(hubStreams).toContain("GET");
    },
  };
});

chatScenario("the chat sample, two nodes sharing rooms over Redis, one page on each", "redis", async () => {
  const redis = await RedisProcess.start();
  const first = await startChatServer({ port: 0, redisUrl: redis.url });
  const second = await startChatServer({ port: 0, redisUrl: redis.url });
  return {
    urls: [first.url, second.url],
    nodeIds: [first.node.nodeId, second.node.nodeId],
    rooms: "redis",
    async close() {
      await first.close();
      await second.close();
      await redis.dispose();
    },
  };
});

const bunBinary = () =>
  createRequire(import.meta.url)
    .resolve("bun/package.json")
    .replace(/package\.json$/, "bin/bun.exe");

/** The sample's Bun server (`npm run start:bun`) on a free port: its URL, its node's id from the banner, and how to stop it. */
async function startOnBun(env: Record<string, string> = {}): Promise<{ url: string; banner: string; nodeId: string; close(): Promise<void> }> {
  const child = spawn(bunBinary(), [`${packageDir}src/bun-server.ts`], { env: { ...process.env, PORT: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const banner = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The chat did not start on Bun within 15 s:\n${output}`)), 15_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const running = /^Hubwire chat is running on Bun at .*$/m.exec(output);
      if (running !== null) {
        clearTimeout(timer);
        resolve(running[0]);
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.once("exit", (code) => reject(new Error(`The chat on Bun exited (${code}):\n${output}`)));
  });
  return {
    url: /at (http:\/\/\S+)/.exec(banner)![1]!.replace("localhost", "127.0.0.1"),
    banner,
    nodeId: /\(node (\S+), shared over Redis\)/.exec(banner)?.[1] ?? "local",
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

chatScenario("the chat sample on Bun (npm run start:bun), in memory", "bun-memory", async () => {
  const chat = await startOnBun();
  expect(chat.banner).toMatch(/ \(in memory\)\.$/);
  return { urls: [chat.url, chat.url], nodeIds: ["local", "local"], rooms: "memory", close: () => chat.close() };
});

chatScenario("the chat sample, a Node node and a Bun node sharing rooms over Redis, one page on each", "bun-redis", async () => {
  const redis = await RedisProcess.start();
  const onNode = await startChatServer({ port: 0, redisUrl: redis.url });
  const onBun = await startOnBun({ REDIS_URL: redis.url });
  expect(onBun.banner).toMatch(/ \(node \S+, shared over Redis\)\.$/);
  return {
    urls: [onNode.url, onBun.url],
    nodeIds: [onNode.node.nodeId, onBun.nodeId],
    rooms: "redis",
    async close() {
      await onBun.close();
      await onNode.close();
      await redis.dispose();
    },
  };
});

describe("the chat sample's start-up banner", () => {
  it("on Bun, with a Redis that accepts connections but answers nothing, is never printed: the server exits saying what to do", async () => {
    const redis = await RedisProcess.start();
    try {
      redis.pause();
      const child = spawn(bunBinary(), [`${packageDir}src/bun-server.ts`], {
        env: { ...process.env, PORT: "0", REDIS_URL: redis.url },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let printed = "";
      child.stdout.on("data", (chunk: Buffer) => (printed += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (printed += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(code).toBe(1);
      expect(printed).toContain(`Redis at ${redis.url} is not reachable`);
      expect(printed).not.toContain("shared over Redis");
      expect(printed).not.toContain("is running");
    } finally {
      await redis.dispose();
    }
  });
});

describe("the chat page, in memory", () => {
  let chat: ChatServer;
  beforeAll(async () => {
    chat = await startChatServer({ port: 0 });
  });
  afterAll(() => chat?.close());

  it("shows the server's own words when it refuses a call, without SignalR's wrapper around them", async (context) => {
    const page = await openPage(chat.url);
    await page.fill("#name", "Ada!");
    await page.click("#join button");
    await waitForLine(page, "Could not join: Room and name: 1 to 32 letters, digits, spaces, '.', '_' or '-'.");
    await screenshot(page, "chat-e2e-refused-join.png", context);
    await page.close();
  });
});

describe("the chat sample when its Redis fails", () => {
  let redis: RedisProcess;
  let chat: ChatServer;
  const logged: string[] = [];
  beforeAll(async () => {
    redis = await RedisProcess.start();
    chat = await startChatServer({ port: 0, redisUrl: redis.url, log: (line) => logged.push(line) });
  });
  afterAll(async () => {
    await chat?.close();
    await redis?.dispose();
  });

  it("the page says when Redis is lost and when it is back; the server's log says each once", { timeout: 60_000 }, async (context) => {
    const ada = await openChat(chat.url, "Ada", newRoom());
    expect(await ada.isHidden("#backplane")).toBe(true);
    await redis.stop();
    await ada.waitForSelector("#backplane", { state: "visible" });
    expect(await ada.textContent("#backplane")).toContain("messages may not reach other servers");
    await screenshot(ada, "chat-e2e-redis-lost.png", context);
    await redis.restart();
    await ada.waitForSelector("#backplane", { state: "hidden" });
    expect(await ada.textContent("#node")).toContain("shared over Redis");
    const lost = logged.filter((line) => line.includes("is unavailable"));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toContain("messages may not reach other servers");
    // Not endsWith("is back."): the first line ends so too ("...until it is back.").
    expect(logged.filter((line) => line === `Redis at ${redis.url} is back.`)).toHaveLength(1);
    await ada.close();
  });

  it("a join while Redis answers nothing fails within seconds, with the store's words on the page; once Redis answers, it works", {
    timeout: 60_000,
  }, async (context) => {
    const page = await openPage(chat.url);
    await page.fill("#name", "Bob");
    await page.fill("#room", newRoom());
    redis.pause();
    try {
      await redis.untilStalled();
      await page.click("#join button");
      await waitForLine(page, "Could not join: Redis did not answer within 2 s; try again.");
      await screenshot(page, "chat-e2e-redis-paused-join.png", context);
    } finally {
      redis.resume();
    }
    await page.click("#join button");
    await page.waitForFunction(() => document.querySelector("#messages")?.textContent?.includes("You joined"));
    await page.close();
  });
});

/** The highlighted client link: `hubwire` or `socket.io`. */
const activeClient = (page: Page) => page.$$eval("a[data-client][aria-current]", (links) => links.map((link) => (link as HTMLElement).dataset["client"]));

function socketIoScenario(title: string, slug: string, start: () => Promise<Omit<Running, "check">>): void {
  describe(title, () => {
    let running: Omit<Running, "check">;
    beforeAll(async () => {
      running = await start();
    });
    afterAll(() => running?.close());

    it("a socket.io-client page and a Hubwire client page in one room see each other's messages, presence and history", async (context) => {
      const { urls, nodeIds } = running;
      const room = newRoom();
      const ada = await openChat(urls[0], "Ada", room);
      const bob = await openChat(`${urls[1]}?client=socket.io`, "Bob", room);
      // Each page says which client it runs on, and over which transport.
      expect(await activeClient(ada)).toEqual(["hubwire"]);
      expect(await activeClient(bob)).toEqual(["socket.io"]);
      expect(await bob.textContent("#status")).toBe("Connected over WebSockets");
      expect(await activeTransport(bob)).toEqual(["WebSockets"]);
      expect(await nodeOf(bob)).toBe(nodeIds[1]);
      // The transport links keep the client, the client links the transport.
      expect(await bob.getAttribute("a[data-transport=LongPolling]", "href")).toBe("?client=socket.io&transport=LongPolling");
      expect(await bob.getAttribute("a[data-client=hubwire]", "href")).toBe("?");

      await waitForLine(ada, "Bob joined");
      await say(ada, "hello from the Hubwire client");
      await waitForLine(bob, "Ada: hello from the Hubwire client");
      await say(bob, "hi from socket.io");
      await waitForLine(ada, "Bob: hi from socket.io");
      await bob.type("#text", "typing…");
      await ada.waitForFunction(() => document.querySelector("#typing")?.textContent === "Bob is typing…");
      expect(await lines(bob, "#messages li.mine")).toEqual(["Bob: hi from socket.io"]);

      // A late joiner on socket.io's long polling gets the history (`recent`) and who is here.
      const cat = await openChat(`${urls[0]}?client=socket.io&transport=LongPolling`, "Cat", room);
      expect(await cat.textContent("#status")).toBe("Connected over LongPolling");
      expect(await lines(cat)).toEqual(["Ada: hello from the Hubwire client", "Bob: hi from socket.io", `You joined ${room}`]);
      expect(await cat.$$eval("#who li", (items) => items.map((item) => item.textContent))).toEqual(["Ada", "Bob", "Cat"]);
      // The hub's refusal, from the { error } acknowledgement, in the hub's own words.
      await cat.evaluate(() => {
        // The input stops at 500 characters; a longer message gets past it only by script.
        const input = document.querySelector<HTMLInputElement>("#text")!;
        input.removeAttribute("maxlength");
        input.value = "x".repeat(501);
      });
      await cat.press("#text", "Enter");
      await waitForLine(cat, "Not sent: Messages are limited to 500 characters.");
      await screenshot(bob, `chat-e2e-${slug}-socket-io.png`, context);

      await bob.click("#leave");
      await waitForLine(ada, "Bob left");
      await waitForLine(cat, "Bob left");
      await cat.close({ runBeforeUnload: true });
      await waitForLine(ada, "Cat left");
      for (const page of [ada, bob]) await page.close();
    });
  });
}

socketIoScenario("the chat sample for socket.io clients, one process in memory", "memory", async () => {
  const chat = await startChatServer({ port: 0 });
  return { urls: [chat.url, chat.url], nodeIds: ["local", "local"], rooms: "memory", close: () => chat.close() };
});

socketIoScenario("the chat sample for socket.io clients, two nodes over Redis, one page on each", "redis", async () => {
  const redis = await RedisProcess.start();
  const first = await startChatServer({ port: 0, redisUrl: redis.url });
  const second = await startChatServer({ port: 0, redisUrl: redis.url });
  return {
    urls: [first.url, second.url],
    nodeIds: [first.node.nodeId, second.node.nodeId],
    rooms: "redis",
    async close() {
      await first.close();
      await second.close();
      await redis.dispose();
    },
  };
});

describe("the chat page on socket.io-client, when the server ends it or cannot serve it", () => {
  it("shows the hub's hubwire:close reason when the server shuts down, and reconnects when it is back", async (context) => {
    const chat = await startChatServer({ port: 0 });
    const port = Number(new URL(chat.url).port);
    const room = newRoom();
    const page = await openChat(`${chat.url}?client=socket.io`, "Ada", room);
    await chat.close();
    await page.waitForFunction(() => document.querySelector("#status")?.textContent === "Reconnecting… (The server is shutting down.)");
    await screenshot(page, "chat-e2e-socket-io-shutdown.png", context);
    const again = await startChatServer({ port });
    try {
      await page.waitForFunction(() => document.querySelector("#status")?.textContent === "Connected over WebSockets", undefined, { timeout: 15_000 });
      // A new connection, which the page puts in its room again: a message there reaches it.
      const bob = await openChat(again.url, "Bob", room);
      await say(bob, "welcome back");
      await waitForLine(page, "Bob: welcome back");
      await bob.close();
    } finally {
      await page.close();
      await again.close();
    }
  });

  it("on Bun, says that this server does not serve socket.io clients", async () => {
    const chat = await startOnBun();
    try {
      const page = await browser.newPage();
      await page.goto(`${chat.url}?client=socket.io`);
      await page.waitForFunction(() => document.querySelector("#status")?.textContent?.startsWith("Could not connect"));
      expect(await page.textContent("#status")).toBe(
        "Could not connect: This server does not serve socket.io clients (the chat on Bun does not): open the page without ?client=socket.io.",
      );
      await page.close();
    } finally {
      await chat.close();
    }
  });
});
