import { launchChromium } from "@hubwire/test-support";
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./test-helpers/test-server.js";

describe("the client in headless Chromium", () => {
  let server: TestServer;
  let browser: Browser;
  let script = "";

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [fileURLToPath(new URL("./test-helpers/browser-scenarios.ts", import.meta.url))],
      bundle: true,
      format: "esm",
      platform: "browser",
      write: false,
    });
    script = bundle.outputFiles[0]!.text;
    server = await startTestServer({
      authenticate: ({ accessToken }) => (accessToken === "browser-token" ? { userId: "browser" } : undefined),
    });
    // The page and its script come from the same origin as the hub.
    const hubListeners = server.server.listeners("request");
    server.server.removeAllListeners("request");
    server.server.on("request", (request, response) => {
      if (request.url === "/") return void response.writeHead(200, { "Content-Type": "text/html" }).end('<!doctype html><script type="module" src="/scenarios.js"></script>');
      if (request.url === "/scenarios.js") return void response.writeHead(200, { "Content-Type": "text/javascript" }).end(script);
      for (const listener of hubListeners) (listener as (...args: unknown[]) => void).call(server.server, request, response);
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const transport of ["WebSockets", "LongPolling"] as const) {
    it(`runs the scenarios over ${transport}`, async () => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(`http://127.0.0.1:${server.port}/`);
      await page.waitForFunction(() => "runScenarios" in window);
      const report = await page.evaluate((name) => (window as unknown as { runScenarios(t: string): Promise<unknown> }).runScenarios(name), transport);
      expect(report).toEqual({
        transport,
        results: [5, { nested: [0, false, "", null] }],
        error: "An unexpected error occurred invoking 'fail' on the server. HubException: from the browser",
        groupAndOthers: ["hello room", "hello others"],
        stream: [0, 1, 2, 3],
        upload: 55,
        clientResult: "browser says hi",
        state: "Disconnected",
      });
      expect(errors).toEqual([]);
      await page.close();
    });
  }
});
