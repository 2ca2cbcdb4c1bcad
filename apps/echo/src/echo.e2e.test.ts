import { fileURLToPath } from "node:url";
import { launchChromium, selfSignedCertificate } from "@hubwire/test-support";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type EchoServer, startEchoServer } from "./echo-server.js";

describe("the echo page in headless Chromium", () => {
  let echo: EchoServer;
  let browser: Browser;
  beforeAll(async () => {
    echo = await startEchoServer({ port: 0 });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await echo?.close();
  });

  it("connects, sends, receives the echo and closes, logging each step", async () => {
    const page = await browser.newPage();
    await page.goto(echo.url);
    await page.click("#connectButton");
    await page.waitForFunction(() => document.getElementById("stateLabel")?.textContent === "Open");
    await page.fill("#sendMessage", "Hello, echo");
    await page.click("#sendButton");
    await page.waitForFunction(() => document.querySelectorAll("#commsLog tr").length >= 3);
    await page.click("#closeButton");
    await page.waitForFunction(() => document.getElementById("stateLabel")?.textContent === "Closed");
    const log = await page.$$eval("#commsLog tr", (rows) => rows.map((row) => [...row.querySelectorAll("td")].map((cell) => cell.textContent)));
    expect(log).toEqual([
      ["Client", "Server", "Connection opened"],
      ["Client", "Server", "Hello, echo"],
      ["Server", "Client", "Hello, echo"],
      ["Server", "Client", "Connection closed. Code: 1000. Reason: Closing from client"],
    ]);
    await page.screenshot({ path: fileURLToPath(new URL("../echo-page.png", import.meta.url)) });
    await page.close();
  });

  it("connects over HTTP/2 (RFC 8441) when the page is served over HTTP/2", async () => {
    const secure = await startEchoServer({ port: 0, tls: selfSignedCertificate() });
    const tlsBrowser = await launchChromium(["--ignore-certificate-errors"]);
    try {
      const page = await tlsBrowser.newPage();
      const response = await page.goto(secure.url);
      expect(response?.status()).toBe(200);
      await page.click("#connectButton");
      await page.waitForFunction(() => document.getElementById("stateLabel")?.textContent === "Open");
      await page.fill("#sendMessage", "over HTTP/2");
      await page.click("#sendButton");
      await page.waitForFunction(() => [...document.querySelectorAll("#commsLog td")].filter((cell) => cell.textContent === "over HTTP/2").length === 2);
      expect(secure.requests.at(-1)?.httpVersion).toBe("2.0");
      // The same port takes an HTTP/1.1 client's upgrade (Node's http2 server with allowHTTP1).
      const http1 = new WebSocket(`${secure.url.replace("https", "wss")}ws`, { rejectUnauthorized: false });
      const echoed = new Promise<string>((resolve) => http1.once("message", (data) => resolve(String(data))));
      http1.once("open", () => http1.send("over HTTP/1.1"));
      expect(await echoed).toBe("over HTTP/1.1");
      http1.close();
      expect(secure.requests.at(-1)?.httpVersion).toBe("1.1");
    } finally {
      await tlsBrowser.close();
      await secure.close();
    }
  });
});
