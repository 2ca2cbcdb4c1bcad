import { createSecureServer, type Http2SecureServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { createHubServer } from "@hubwire/server";
import { launchChromium, selfSignedCertificate } from "@hubwire/test-support";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer, testHub } from "./test-helpers/test-server.js";

const expectedReport = (transport: string) => ({
  transport,
  results: [5, { nested: [0, false, "", null] }],
  error: "An unexpected error occurred invoking 'fail' on the server. HubException: from the browser",
  groupAndOthers: ["hello room", "hello others"],
  stream: [0, 1, 2, 3],
  upload: 55,
  clientResult: "browser says hi",
  state: "Disconnected",
});

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
      if (request.url === "/")
        return void response.writeHead(200, { "Content-Type": "text/html" }).end('<!doctype html><script type="module" src="/scenarios.js"></script>');
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
    it(`runs the scenarios over ${transport}, every request finishing cleanly`, async () => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      // Requests the browser cancelled or failed (net::ERR_ABORTED), from Playwright and from the
      // DevTools protocol, which also reports a cancelled 204 that Playwright calls finished.
      const failed: string[] = [];
      page.on("requestfailed", (request) => failed.push(`${request.method()} ${new URL(request.url()).pathname} ${request.failure()?.errorText}`));
      const devtools = await page.context().newCDPSession(page);
      await devtools.send("Network.enable");
      devtools.on("Network.loadingFailed", (event) => failed.push(`${event.type} ${event.errorText} canceled=${String(event.canceled)}`));
      await page.goto(`http://127.0.0.1:${server.port}/`);
      await page.waitForFunction(() => "runScenarios" in window);
      const report = await page.evaluate((name) => (window as unknown as { runScenarios(t: string): Promise<unknown> }).runScenarios(name), transport);
      expect(report).toEqual(expectedReport(transport));
      expect(errors).toEqual([]);
      expect(failed).toEqual([]);
      await page.close();
    });
  }

  describe("from a page served over HTTP/2", () => {
    let http2Server: Http2SecureServer;
    let http2Hubs: ReturnType<typeof createHubServer>;
    let origin = "";
    /** `METHOD path` of the hub's HTTP/2 streams. */
    const streams: string[] = [];
    beforeAll(async () => {
      http2Hubs = createHubServer({
        hubs: { "/hub": testHub },
        authenticate: ({ accessToken }) => (accessToken === "browser-token" ? { userId: "browser" } : undefined),
      });
      http2Server = createSecureServer({ ...selfSignedCertificate(), allowHTTP1: true }, (request, response) => {
        if (request.url === "/")
          return void response.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><script type="module" src="/scenarios.js"></script>');
        if (request.url === "/scenarios.js") return void response.writeHead(200, { "content-type": "text/javascript" }).end(script);
        response.writeHead(404).end();
      });
      http2Server.on("stream", (_stream, headers) => {
        const path = String(headers[":path"]).split("?")[0]!;
        if (path.startsWith("/hub")) streams.push(`${String(headers[":method"])} ${path}`);
      });
      http2Hubs.attach(http2Server);
      await new Promise<void>((resolve) => http2Server.listen(0, "127.0.0.1", resolve));
      origin = `https://127.0.0.1:${(http2Server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await http2Hubs?.close();
      await new Promise<void>((resolve) => http2Server?.close(() => resolve()));
    });

    for (const transport of ["WebSockets", "ServerSentEvents", "LongPolling"] as const) {
      it(`runs the scenarios over ${transport}, on HTTP/2`, async () => {
        streams.length = 0;
        const context = await browser.newContext({ ignoreHTTPSErrors: true });
        const page = await context.newPage();
        const errors: string[] = [];
        page.on("pageerror", (error) => errors.push(error.message));
        await page.goto(`${origin}/`);
        await page.waitForFunction(() => "runScenarios" in window);
        const report = await page.evaluate((name) => (window as unknown as { runScenarios(t: string): Promise<unknown> }).runScenarios(name), transport);
        await context.close();
        expect(report).toEqual(expectedReport(transport));
        expect(errors).toEqual([]);
        expect(streams).toContain("POST /hub/negotiate");
        // The WebSocket is an extended CONNECT stream of the same HTTP/2 connection.
        expect(streams).toContain(transport === "WebSockets" ? "CONNECT /hub" : "POST /hub");
      });
    }
  });
});
