import { execFileSync, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { launchChromium, RedisProcess, selfSignedCertificate } from "@hubwire/test-support";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatServer, startChatServer } from "./chat-server.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

let browser: Browser;
beforeAll(async () => {
  // The page script comes from the build; build it if this run has not.
  execFileSync(process.execPath, ["scripts/bundle-page.mjs"], { cwd: packageDir });
  // The HTTP/2 scenario's certificate is self-signed.
  browser = await launchChromium(["--ignore-certificate-errors"]);
});
afterAll(async () => {
  await browser?.close();
});

async function openChat(url: string, name: string, room = "lobby"): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]");
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

const lines = (page: Page) => page.$$eval("#messages li", (items) => items.map((item) => item.textContent ?? ""));
const waitForLine = (page: Page, text: string) =>
  page.waitForFunction((expected) => [...document.querySelectorAll("#messages li")].some((item) => item.textContent === expected), text);

/** A running chat for a scenario; `check` asserts what is particular to it, once the pages are done. */
interface Running {
  readonly urls: [string, string];
  close(): Promise<void>;
  check?(): void;
}

function chatScenario(title: string, start: () => Promise<Running>): void {
  describe(title, () => {
    let urls: [string, string];
    let close: () => Promise<void>;
    let check: (() => void) | undefined;
    beforeAll(async () => {
      ({ urls, close, check } = await start());
    });
    afterAll(() => close());

    it("two pages in a room exchange messages (one forced to long polling), a late joiner gets the history, leaving is announced", async () => {
      const room = `room-${Math.random().toString(36).slice(2, 8)}`;
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
      await ada.screenshot({
        path: `${packageDir}dist/chat-e2e-${title.includes("Bun") ? "bun-" : ""}${title.includes("Redis") ? "redis" : title.includes("HTTP/2") ? "http2" : "memory"}.png`,
      });
      await ada.close();
      check?.();
    });
  });
}

chatScenario("the chat sample, one process in memory", async () => {
  const chat: ChatServer = await startChatServer({ port: 0 });
  return { urls: [chat.url, chat.url], close: () => chat.close() };
});

chatScenario("the chat sample over HTTPS, pages and hub on HTTP/2", async () => {
  const chat: ChatServer = await startChatServer({ port: 0, tls: selfSignedCertificate() });
  // Every stream the hub is asked for arrives over HTTP/2: the WebSocket as an extended CONNECT.
  const hubStreams: string[] = [];
  chat.server.on("stream", (_stream: unknown, headers: Record<string, string>) => {
    if (headers[":path"]?.startsWith("/chat")) hubStreams.push(headers[":method"]!);
  });
  return {
    urls: [chat.url, chat.url],
    close: () => chat.close(),
    check() {
      expect(hubStreams).toContain("CONNECT");
      expect(hubStreams).toContain("GET");
    },
  };
});

chatScenario("the chat sample, two nodes sharing rooms over Redis, one page on each", async () => {
  const redis = await RedisProcess.start();
  const first = await startChatServer({ port: 0, redisUrl: redis.url });
  const second = await startChatServer({ port: 0, redisUrl: redis.url });
  return {
    urls: [first.url, second.url],
    async close() {
      await first.close();
      await second.close();
      await redis.dispose();
    },
  };
});

/** The sample's Bun server (`npm run start:bun`), on a free port: its URL and how to stop it. */
async function startOnBun(env: Record<string, string> = {}): Promise<{ url: string; close(): Promise<void> }> {
  const bun = createRequire(import.meta.url)
    .resolve("bun/package.json")
    .replace(/package\.json$/, "bin/bun.exe");
  const child = spawn(bun, [`${packageDir}src/bun-server.ts`], { env: { ...process.env, PORT: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The chat did not start on Bun within 15 s:\n${output}`)), 15_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const running = /running on Bun at (http:\/\/\S+)/.exec(output);
      if (running !== null) {
        clearTimeout(timer);
        resolve(running[1]!.replace("localhost", "127.0.0.1"));
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.once("exit", (code) => reject(new Error(`The chat on Bun exited (${code}):\n${output}`)));
  });
  return {
    url,
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

chatScenario("the chat sample on Bun (npm run start:bun), in memory", async () => {
  const chat = await startOnBun();
  return { urls: [chat.url, chat.url], close: () => chat.close() };
});

chatScenario("the chat sample, a Node node and a Bun node sharing rooms over Redis, one page on each", async () => {
  const redis = await RedisProcess.start();
  const onNode = await startChatServer({ port: 0, redisUrl: redis.url });
  const onBun = await startOnBun({ REDIS_URL: redis.url });
  return {
    urls: [onNode.url, onBun.url],
    async close() {
      await onBun.close();
      await onNode.close();
      await redis.dispose();
    },
  };
});
