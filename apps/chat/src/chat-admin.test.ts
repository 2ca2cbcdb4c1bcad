/**
 * The chat sample mounts the admin page (@hubwire/admin): open on a loopback host with no token
 * (local development), behind ADMIN_TOKEN's login otherwise. In Chromium, with two chat pages in a
 * room; the screenshot is the README's (test-output/admin-page.png).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { launchChromium } from "@hubwire/test-support";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChatServer } from "./chat-server.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const output = fileURLToPath(new URL("../test-output/", import.meta.url));

let browser: Browser;
beforeAll(async () => {
  execFileSync(process.execPath, ["scripts/bundle-page.mjs"], { cwd: packageDir });
  mkdirSync(output, { recursive: true });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe("the chat sample's admin page", () => {
  it("is open on this machine with no token, and shows the chat's connections and rooms", async () => {
    const chat = await startChatServer({ port: 0 });
    try {
      const pages = [];
      for (const [name, query] of [
        ["ada", ""],
        ["grace", "?transport=LongPolling"],
      ] as const) {
        const page = await browser.newPage();
        await page.goto(`${chat.url}${query}`);
        await page.waitForSelector("body[data-ready=true]");
        await page.fill("#name", name);
        await page.fill("#room", "lobby");
        await page.click("#join button");
        await page.waitForFunction(() => document.querySelector("#messages")?.textContent?.includes("You joined"));
        pages.push(page);
      }
      const admin = await browser.newPage({ viewport: { width: 1280, height: 860 } });
      await admin.goto(`${chat.url}admin`);
      await admin.waitForFunction(() => document.querySelectorAll("tr[data-connection]").length === 2);
      expect(await admin.$$eval("tr[data-group-row]", (rows) => rows.map((row) => row.textContent))).toContain("lobby2");
      const transports = await admin.$$eval("tr[data-connection] td:nth-child(4)", (cells) => cells.map((cell) => cell.textContent).sort());
      expect(transports).toEqual(["LongPolling", "WebSockets"]);
      // A few readings, so that the charts have lines.
      await admin.waitForFunction(() => document.querySelectorAll("#chart-connections polyline").length === 1);
      await new Promise((resolve) => setTimeout(resolve, 4_500));
      await admin.screenshot({ path: `${output}admin-page.png` });
      for (const page of pages) await page.close();
      await admin.close();
    } finally {
      await chat.close();
    }
  }, 60_000);

  it("with ADMIN_TOKEN, is refused until the token's login has set its cookie", async () => {
    const chat = await startChatServer({ port: 0, adminToken: "s3cret" });
    try {
      expect((await fetch(`${chat.url}admin`)).status).toBe(403);
      expect((await fetch(`${chat.url}admin/login?token=wrong`)).status).toBe(403);
      const login = await fetch(`${chat.url}admin/login?token=s3cret`, { redirect: "manual" });
      expect(login.status).toBe(303);
      const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
      const page = await fetch(`${chat.url}admin`, { headers: { cookie } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("Hubwire admin");
      const admin = await browser.newPage();
      await admin.goto(`${chat.url}admin/login?token=s3cret`);
      await admin.waitForSelector("#status");
      await admin.waitForFunction(() => document.querySelector("#status")?.textContent?.startsWith("live"));
      await admin.close();
    } finally {
      await chat.close();
    }
  }, 60_000);
});
