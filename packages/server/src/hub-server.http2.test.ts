/**
 * Hubs on a `node:http2` server: the official browser client in Chromium over HTTP/2 (negotiate,
 * Server-Sent Events, long polling, and WebSockets as extended CONNECT streams), the official Node
 * client over the server's HTTP/1.1 fallback, and the refusals of a bad extended CONNECT.
 */

import { readFileSync } from "node:fs";
import type { OutgoingHttpHeaders } from "node:http";
import {
  type ClientHttp2Session,
  connect as connectHttp2,
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  constants as http2Constants,
  type ServerHttp2Stream,
} from "node:http2";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { launchChromium, selfSignedCertificate } from "@hubwire/test-support";
import { HttpTransportType, HubConnectionBuilder, NullLogger } from "@microsoft/signalr";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createHubServer, createWebSocketEndpoint, type HubServer } from "./index.js";
import { testHub } from "./test-helpers/test-hub.js";

/** The test page: the official browser client and nothing else. */
function servePage(request: Http2ServerRequest, response: Http2ServerResponse): void {
  if (request.url === "/") return void response.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><script src="/signalr.js"></script>');
  if (request.url === "/signalr.js") return void response.writeHead(200, { "content-type": "text/javascript" }).end(officialBrowserClient);
  response.writeHead(404).end();
}

const officialBrowserClient = readFileSync(createRequire(import.meta.url).resolve("@microsoft/signalr/dist/browser/signalr.js"), "utf8");

/** Sends one request on `session` and reads its whole answer. */
async function exchange(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: string | Buffer): Promise<{ status: number; body: string }> {
  const stream = session.request(headers);
  stream.end(body);
  const status = await new Promise<number>((resolve) => stream.once("response", (response) => resolve(Number(response[":status"]))));
  let text = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => (text += chunk));
  await new Promise<void>((resolve) => stream.once("close", () => resolve()));
  return { status, body: text };
}

async function until(predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A hub connection over Server-Sent Events on `session`, handshake done; `events` collects what arrives. */
async function openSse(session: ClientHttp2Session) {
  const negotiate = await exchange(session, { ":method": "POST", ":path": "/hub/negotiate?negotiateVersion=1" });
  const token = (JSON.parse(negotiate.body) as { connectionToken: string }).connectionToken;
  const events = session.request({ ":method": "GET", ":path": `/hub?id=${token}`, accept: "text/event-stream" });
  let received = "";
  events.setEncoding("utf8");
  events.on("data", (chunk: string) => (received += chunk));
  const ended = new Promise<void>((resolve) => events.once("close", () => resolve()));
  const send = (body: string | Buffer) => exchange(session, { ":method": "POST", ":path": `/hub?id=${token}` }, body);
  expect((await send('{"protocol":"json","version":1}\u001e')).status).toBe(200);
  await until(() => received.includes("data: {}"));
  return { send, received: () => received, ended, stream: events };
}

describe("hubs on an HTTP/2 server", () => {
  let hubs: HubServer;
  let server: Http2SecureServer;
  let origin = "";
  /** `METHOD path` of every HTTP/2 stream the server received. */
  const streams: string[] = [];
  /** `METHOD httpVersion` of every request the hub authenticated (negotiate and transports). */
  const authenticated: string[] = [];
  let upgrades = 0;
  /** The latest authentication asked to take its time (header `x-slow`). */
  let slowAuthentication: Promise<unknown> | undefined;

  beforeAll(async () => {
    hubs = createHubServer({
      hubs: { "/hub": testHub },
      authenticate: async ({ request }) => {
        authenticated.push(`${request.method} ${request.httpVersion}`);
        if (request.headers["x-slow"] !== undefined) await (slowAuthentication = new Promise((resolve) => setTimeout(resolve, 200)));
        return undefined;
      },
    });
    // No enableConnectProtocol here: attach announces it.
    server = createSecureServer({ ...selfSignedCertificate(), allowHTTP1: true }, servePage);
    server.on("stream", (_stream, headers) => streams.push(`${String(headers[":method"])} ${String(headers[":path"]).split("?")[0]}`));
    server.on("upgrade", () => upgrades++);
    hubs.attach(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await hubs.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  describe("the official browser client in Chromium", () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium(["--ignore-certificate-errors"]);
    });
    afterAll(async () => {
      await browser?.close();
    });

    for (const transport of ["WebSockets", "ServerSentEvents", "LongPolling"] as const) {
      it(`runs calls, a push and a stream over HTTP/2 with ${transport}`, async () => {
        streams.length = 0;
        authenticated.length = 0;
        const upgradesBefore = upgrades;
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on("pageerror", (error) => errors.push(error.message));
        await page.goto(`${origin}/`);
        const report = await page.evaluate(async (name) => {
          const signalR = (globalThis as unknown as { signalR: typeof import("@microsoft/signalr") }).signalR;
          const connection = new signalR.HubConnectionBuilder()
            .withUrl("/hub", { transport: signalR.HttpTransportType[name] })
            .configureLogging(signalR.LogLevel.None)
            .build();
          const pushed = new Promise((resolve) => connection.on("receive", resolve));
          await connection.start();
          const echo = await connection.invoke("echo", { over: "h2" });
          await connection.invoke("sendTo", { kind: "caller" }, "pushed over h2");
          const items: number[] = [];
          await new Promise<void>((resolve, reject) =>
            connection.stream<number>("counter", 3, 0).subscribe({ next: (item) => void items.push(item), complete: resolve, error: reject }),
          );
          const who = (await connection.invoke("whoAmI")) as { headerNames: string[] };
          const used = (connection as unknown as { connection: { transport: { constructor: { name: string } } } }).connection.transport.constructor.name;
          await connection.stop();
          return { echo, pushed: await pushed, items, headerNames: who.headerNames, used };
        }, transport);
        await page.close();

        expect(report).toEqual({
          echo: { over: "h2" },
          pushed: "pushed over h2",
          items: [0, 1, 2],
          headerNames: expect.arrayContaining(["host"]) as unknown,
          used: { WebSockets: "WebSocketTransport", ServerSentEvents: "ServerSentEventsTransport", LongPolling: "LongPollingTransport" }[transport],
        });
        // What the connection keeps of its request reads as HTTP/1.1 would: no pseudo-headers.
        expect(report.headerNames.filter((name) => name.startsWith(":"))).toEqual([]);
        expect(errors).toEqual([]);
        // Every request the hub saw came over HTTP/2, the WebSocket as an extended CONNECT stream.
        expect(authenticated).toEqual(transport === "WebSockets" ? ["POST 2.0", "CONNECT 2.0"] : ["POST 2.0", "GET 2.0"]);
        expect(streams).toContain("POST /hub/negotiate");
        if (transport === "WebSockets") expect(streams).toContain("CONNECT /hub");
        else expect(streams.filter((stream) => stream === "POST /hub").length).toBeGreaterThan(0);
        expect(upgrades).toBe(upgradesBefore);
      });
    }

    it("re-attaches with stateful reconnect when its WebSocket stream is reset: nothing lost, same connection", async () => {
      const statefulHubs = createHubServer({ hubs: { "/hub": testHub }, hubOptions: { allowStatefulReconnect: true, statefulReconnectWindowMs: 5_000 } });
      const statefulServer = createSecureServer({ ...selfSignedCertificate(), allowHTTP1: true }, servePage);
      const webSocketStreams: ServerHttp2Stream[] = [];
      statefulServer.on("stream", (stream, headers) => {
        if (headers[":method"] === "CONNECT") webSocketStreams.push(stream);
      });
      statefulHubs.attach(statefulServer);
      await new Promise<void>((resolve) => statefulServer.listen(0, "127.0.0.1", resolve));
      const page = await browser.newPage();
      try {
        await page.goto(`https://127.0.0.1:${(statefulServer.address() as AddressInfo).port}/`);
        const count = 400;
        await page.evaluate(async (total) => {
          const signalR = (globalThis as unknown as { signalR: typeof import("@microsoft/signalr") }).signalR;
          const connection = new signalR.HubConnectionBuilder()
            .withUrl("/hub", { transport: signalR.HttpTransportType.WebSockets })
            .withStatefulReconnect()
            .withAutomaticReconnect([0, 100, 100])
            .configureLogging(signalR.LogLevel.None)
            .build();
          const state = { received: [] as number[], reconnecting: 0, firstId: "", pushed: undefined as Promise<unknown> | undefined, connection };
          connection.on("numbered", (value: number) => void state.received.push(value));
          connection.onreconnecting(() => void state.reconnecting++);
          await connection.start();
          state.firstId = connection.connectionId ?? "";
          state.pushed = connection.invoke("pushNumbers", total, 5);
          (globalThis as unknown as { state: typeof state }).state = state;
        }, count);
        // Reset the WebSocket's stream three times mid-traffic, as a network would drop it.
        for (let cut = 0; cut < 3; cut++) {
          await new Promise((resolve) => setTimeout(resolve, 80));
          const before = webSocketStreams.length;
          webSocketStreams.at(-1)!.close(http2Constants.NGHTTP2_CANCEL);
          await until(() => webSocketStreams.length > before);
        }
        const report = await page.evaluate(async () => {
          const state = (
            globalThis as unknown as {
              state: {
                received: number[];
                reconnecting: number;
                firstId: string;
                pushed: Promise<unknown>;
                connection: { connectionId: string | null; stop(): Promise<void> };
              };
            }
          ).state;
          const pushed = await state.pushed;
          const deadline = Date.now() + 5_000;
          while (state.received.length < (pushed as number) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
          const sameId = state.connection.connectionId === state.firstId;
          await state.connection.stop();
          return { pushed, received: state.received, reconnecting: state.reconnecting, sameId };
        });
        expect(report).toEqual({ pushed: count, received: Array.from({ length: count }, (_, i) => i + 1), reconnecting: 0, sameId: true });
        // Every re-attach was a new extended CONNECT on HTTP/2.
        expect(webSocketStreams.length).toBeGreaterThanOrEqual(4);
      } finally {
        await page.close();
        await statefulHubs.close();
        await new Promise<void>((resolve) => statefulServer.close(() => resolve()));
      }
    });
  });

  describe("the official Node client, which speaks HTTP/1.1 (allowHTTP1)", () => {
    const rejectUnauthorized = process.env["NODE_TLS_REJECT_UNAUTHORIZED"];
    beforeAll(() => {
      // The test's certificate is self-signed; fetch and ws read this when they connect.
      process.env["NODE_TLS_REJECT_UNAUTHORIZED"] = "0";
    });
    afterAll(() => {
      if (rejectUnauthorized === undefined) delete process.env["NODE_TLS_REJECT_UNAUTHORIZED"];
      else process.env["NODE_TLS_REJECT_UNAUTHORIZED"] = rejectUnauthorized;
    });

    for (const transport of ["WebSockets", "ServerSentEvents", "LongPolling"] as const) {
      it(`calls a method over ${transport}`, async () => {
        authenticated.length = 0;
        const upgradesBefore = upgrades;
        const connection = new HubConnectionBuilder()
          .withUrl(`${origin}/hub`, { transport: HttpTransportType[transport] })
          .configureLogging(NullLogger.instance)
          .build();
        await connection.start();
        expect(await connection.invoke("echo", "over HTTP/1.1")).toBe("over HTTP/1.1");
        await connection.stop();
        expect(authenticated).toEqual(["POST 1.1", "GET 1.1"]);
        // The WebSocket came as an HTTP/1.1 upgrade to the HTTP/2 server.
        expect(upgrades - upgradesBefore).toBe(transport === "WebSockets" ? 1 : 0);
      });
    }
  });

  describe("one HTTP/2 session carrying several connections", () => {
    it("refuses one connection's oversized POST with 413 and ends only that connection", async () => {
      const session = connectHttp2(origin, { rejectUnauthorized: false });
      try {
        const first = await openSse(session);
        const second = await openSse(session);
        // The default cap on a POST body is 1 MiB.
        const refused = await first.send(Buffer.alloc(1024 * 1024 + 1, 0x20));
        expect(refused.status).toBe(413);
        await first.ended;
        // The session, and the other connection on it, go on.
        expect(session.destroyed).toBe(false);
        expect((await second.send('{"type":1,"invocationId":"1","target":"echo","arguments":["still here"]}\u001e')).status).toBe(200);
        await until(() => second.received().includes('"result":"still here"'));
      } finally {
        session.close();
      }
    });
  });

  describe("a client that stops reading its event stream", () => {
    it("is cut at the outbound buffer cap, as over HTTP/1.1, so the server holds no more for it", async () => {
      const capped = createHubServer({ hubs: { "/hub": testHub }, hubOptions: { maxOutboundBufferBytes: 256 * 1024 } });
      const cappedServer = createSecureServer({ ...selfSignedCertificate(), allowHTTP1: true });
      capped.attach(cappedServer);
      await new Promise<void>((resolve) => cappedServer.listen(0, "127.0.0.1", resolve));
      const session = connectHttp2(`https://127.0.0.1:${(cappedServer.address() as AddressInfo).port}`, { rejectUnauthorized: false });
      try {
        const slow = await openSse(session);
        expect(capped.connectionCount("/hub")).toBe(1);
        // Stop reading: HTTP/2 flow control stops the server's sends, which then queue on its side.
        slow.stream.pause();
        const big = "x".repeat(16 * 1024);
        for (let i = 0; i < 40; i++) {
          await slow.send(`{"type":1,"invocationId":"${i}","target":"echo","arguments":["${big}"]}\u001e`);
          if (capped.connectionCount("/hub") === 0) break;
        }
        await until(() => capped.connectionCount("/hub") === 0);
      } finally {
        session.destroy();
        await capped.close();
        await new Promise<void>((resolve) => cappedServer.close(() => resolve()));
      }
    });
  });

  describe("beside a raw WebSocket endpoint on the same server", () => {
    it("serves each its own path and answers a CONNECT for neither with 404 instead of leaving it open", async () => {
      const sharedHubs = createHubServer({ hubs: { "/hub": testHub } });
      const raw = createWebSocketEndpoint(async (socket) => {
        for await (const _message of socket) socket.send("raw");
      });
      const shared = createSecureServer({ ...selfSignedCertificate(), allowHTTP1: true }, (_request, response) => response.writeHead(404).end());
      sharedHubs.attach(shared);
      raw.attachHttp2(shared, "/ws");
      await new Promise<void>((resolve) => shared.listen(0, "127.0.0.1", resolve));
      const sharedOrigin = `https://127.0.0.1:${(shared.address() as AddressInfo).port}`;
      const session = connectHttp2(sharedOrigin, { rejectUnauthorized: false });
      try {
        await new Promise<void>((resolve) => session.once("remoteSettings", () => resolve()));
        const connectTo = (path: string) =>
          new Promise<number>((resolve) => {
            const stream = session.request({
              ":method": "CONNECT",
              ":protocol": "websocket",
              ":path": path,
              ":scheme": "https",
              ":authority": new URL(sharedOrigin).host,
            });
            stream.once("response", (headers) => {
              resolve(Number(headers[":status"]));
              stream.close();
            });
          });
        expect(await connectTo("/hub")).toBe(200);
        expect(await connectTo("/ws")).toBe(200);
        expect(await connectTo("/neither")).toBe(404);
        // An HTTP/1.1 upgrade to neither path is answered too (400), not left open.
        const http1 = new WebSocket(`${sharedOrigin.replace("https", "wss")}/neither`, { rejectUnauthorized: false });
        expect(await new Promise<string>((resolve) => http1.once("unexpected-response", (_request, response) => resolve(String(response.statusCode))))).toBe(
          "400",
        );
      } finally {
        session.close();
        raw.close();
        await sharedHubs.close();
        await new Promise<void>((resolve) => shared.close(() => resolve()));
      }
    });
  });

  describe("extended CONNECT requests it refuses", () => {
    async function connectStatus(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
      const session = connectHttp2(origin, { rejectUnauthorized: false });
      try {
        await new Promise<void>((resolve) => session.once("remoteSettings", () => resolve()));
        expect(session.remoteSettings.enableConnectProtocol).toBe(true);
        const authority = new URL(origin).host;
        return await exchange(session, {
          ":method": "CONNECT",
          ":protocol": "websocket",
          ":path": path,
          ":scheme": "https",
          ":authority": authority,
          "sec-websocket-version": "13",
          ...headers,
        });
      } finally {
        session.close();
      }
    }

    it("answers 404 for a path without a hub, and for a connection id it does not know", async () => {
      expect((await connectStatus("/elsewhere")).status).toBe(404);
      expect(await connectStatus("/hub?id=unknown")).toEqual({ status: 404, body: "No Connection with that ID" });
    });

    it("answers 403 for a foreign Origin", async () => {
      const { status, body } = await connectStatus("/hub", { origin: "https://evil.example" });
      expect(status).toBe(403);
      expect(body).toMatch(/Origin is not allowed/);
    });

    it("forgets a WebSocket whose stream the client dropped while it was being authenticated", async () => {
      const session = connectHttp2(origin, { rejectUnauthorized: false });
      try {
        await new Promise<void>((resolve) => session.once("remoteSettings", () => resolve()));
        const before = hubs.connectionCount("/hub");
        slowAuthentication = undefined;
        const stream = session.request({
          ":method": "CONNECT",
          ":protocol": "websocket",
          ":path": "/hub",
          ":scheme": "https",
          ":authority": new URL(origin).host,
          "x-slow": "1",
        });
        await until(() => slowAuthentication !== undefined);
        stream.close();
        await slowAuthentication;
        await new Promise((resolve) => setImmediate(resolve));
        // The connection made for it (skipNegotiation) is gone at once, not at the disconnect timeout.
        expect(hubs.connectionCount("/hub")).toBe(before);
        expect(session.destroyed).toBe(false);
      } finally {
        session.close();
      }
    });

    it("answers 400 for a WebSocket version other than 13", async () => {
      const { status, body } = await connectStatus("/hub", { "sec-websocket-version": "8" });
      expect(status).toBe(400);
      expect(body).toMatch(/version 13/);
    });
  });
});
