/**
 * The React page in headless Chromium (Debian's, through playwright-core): two pages chat through
 * the hub; and in React's development build, where StrictMode mounts every effect twice, a page
 * still holds one connection. Screenshots go to test-output/ (git-ignored).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { type PageServer, startPageServer } from "./page-server.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const output = `${packageDir}test-output/`;
const chromiumPath = "/usr/bin/chromium";

let browser: Browser;
beforeAll(async () => {
  // The page's script comes from the build; build it if this run has not.
  execFileSync(process.execPath, ["scripts/bundle-page.mjs"], { cwd: packageDir });
  mkdirSync(output, { recursive: true });
  if (!existsSync(chromiumPath)) throw new Error(`Chromium is not installed at ${chromiumPath}: run 'apt-get install -y chromium'.`);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});
afterAll(async () => {
  await browser?.close();
});

/** A page at `url` whose hub connection is up. */
async function openPage(url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector("#status[data-state=Connected]");
  return page;
}

async function say(page: Page, name: string, text: string): Promise<void> {
  await page.fill("#name", name);
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

const lines = (page: Page) => page.$$eval("#messages li", (items) => items.map((item) => item.textContent ?? ""));
const waitForLines = (page: Page, count: number) => page.waitForFunction((expected) => document.querySelectorAll("#messages li").length >= expected, count);

async function screenshot(page: Page, file: string, context: TestContext): Promise<void> {
  await page.screenshot({ path: `${output}${file}`, fullPage: true });
  await context.annotate(`screenshot: ${output}${file}`, "screenshot");
}

/** Resolves once `read()` has equalled `expected` for `steadyMs` in a row; rejects after 10 s. */
async function settlesAt(read: () => number, expected: number, steadyMs = 300): Promise<void> {
  const deadline = Date.now() + 10_000;
  let since: number | undefined;
  for (;;) {
    const now = Date.now();
    if (read() === expected) since ??= now;
    else since = undefined;
    if (since !== undefined && now - since >= steadyMs) return;
    if (now > deadline) throw new Error(`Expected ${expected}, still ${read()} after 10 s.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the React page (production build)", () => {
  let server: PageServer;
  beforeAll(async () => {
    server = await startPageServer({ port: 0 });
  });
  afterAll(() => server?.close());

  it("two pages chat through the hub: each sees both messages in order, its own marked as its own", async (context) => {
    const ada = await openPage(server.url);
    const bob = await openPage(server.url);
    expect(await ada.textContent("#status")).toBe("Connected over WebSockets");

    await say(ada, "Ada", "hello from React");
    await waitForLines(bob, 1);
    await say(bob, "Bob", "hi Ada");
    await waitForLines(ada, 2);
    await waitForLines(bob, 2);
    for (const page of [ada, bob]) expect(await lines(page)).toEqual(["Ada: hello from React", "Bob: hi Ada"]);
    expect(await ada.$$eval("#messages li.mine", (items) => items.map((item) => item.textContent))).toEqual(["Ada: hello from React"]);
    // The box is emptied once the hub has taken the message.
    expect(await ada.inputValue("#text")).toBe("");
    await screenshot(ada, "react-page-ada.png", context);
    await screenshot(bob, "react-page-bob.png", context);
    await ada.close();
    await bob.close();
  });

  it("shows the hub's own words when it refuses a message", async () => {
    const page = await openPage(server.url);
    // Spaces pass the page's check (the button waits only for something in each field), not the hub's.
    await say(page, "   ", "hello");
    await page.waitForFunction(() => document.querySelector("#problem")?.textContent !== "");
    expect(await page.textContent("#problem")).toBe("A name is 1 to 32 characters.");
    await page.close();
  });

  it("follows the connection's state: a server that goes away shows Reconnecting, and Connected again once back", async () => {
    const page = await openPage(server.url);
    await server.close();
    await page.waitForSelector("#status[data-state=Reconnecting]");
    // The same port: the client retries the same URL (after 0, 2, 10 and 30 s).
    server = await startPageServer({ port: Number(new URL(server.url).port) });
    await page.waitForSelector("#status[data-state=Connected]", { timeout: 15_000 });
    await page.close();
  });
});

describe("the React page in development (StrictMode runs each effect, and its cleanup, twice)", () => {
  let server: PageServer;
  beforeAll(async () => {
    const script = `${output}app.development.js`;
    execFileSync(process.execPath, ["scripts/bundle-page.mjs", "--development", "--outfile", script], { cwd: packageDir });
    server = await startPageServer({ port: 0, scriptPath: script });
  });
  afterAll(() => server?.close());

  it("holds one connection per page: the connection of StrictMode's first, discarded effect is stopped", async () => {
    const page = await openPage(server.url);
    await settlesAt(() => server.hubs.connectionCount("/chat"), 1);
    await page.close();
    await settlesAt(() => server.hubs.connectionCount("/chat"), 0);
  });
});
