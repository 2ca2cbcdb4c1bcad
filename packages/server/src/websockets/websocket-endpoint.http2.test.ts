import { type ClientHttp2Stream, connect as connectHttp2, createSecureServer, type Http2SecureServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { selfSignedCertificate } from "@hubwire/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebSocketEndpoint, type EndpointRequest, type WebSocketEndpoint } from "./websocket-endpoint.js";

/** A masked client frame (RFC 6455 5.2) for payloads under 126 bytes. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]);
}

/** Reads unmasked server frames from a stream: [opcode, payload] pairs. */
function frames(stream: ClientHttp2Stream): Array<[number, Buffer]> {
  const received: Array<[number, Buffer]> = [];
  let pending = Buffer.alloc(0);
  stream.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + (pending[1]! & 0x7f)) {
      const length = pending[1]! & 0x7f;
      received.push([pending[0]! & 0x0f, pending.subarray(2, 2 + length)]);
      pending = pending.subarray(2 + length);
    }
  });
  return received;
}

/** Mounts `endpoint` at /ws on `server` and listens on a free port of 127.0.0.1. */
async function serve(endpoint: WebSocketEndpoint, server: Http2SecureServer): Promise<{ port: number; close: () => void }> {
  endpoint.attachHttp2(server, "/ws");
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      endpoint.close();
      server.close();
    },
  };
}

async function until(predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("WebSockets over HTTP/2 (RFC 8441 extended CONNECT)", () => {
  const requests: EndpointRequest[] = [];
  let port = 0;
  let close: () => void;

  beforeAll(async () => {
    const endpoint = createWebSocketEndpoint(
      async (socket) => {
        requests.push(socket.request);
        for await (const message of socket) socket.send(`echo: ${message.text()}`);
      },
      { allowedOrigins: ["https://app.example.com"] },
    );
    // No enableConnectProtocol: attachHttp2 announces it.
    ({ port, close } = await serve(endpoint, createSecureServer({ ...selfSignedCertificate(), allowHTTP1: true })));
  });
  afterAll(() => close());

  /** An extended CONNECT (RFC 8441) for /ws from `origin`; resolves with the stream and its status. */
  async function connectWebSocket(client: Awaited<ReturnType<typeof session>>, origin: string) {
    const stream = client.request({
      ":method": "CONNECT",
      ":protocol": "websocket",
      ":path": "/ws",
      ":scheme": "https",
      ":authority": `127.0.0.1:${port}`,
      "sec-websocket-version": "13",
      origin,
    });
    const status = await new Promise<number>((resolve) => stream.once("response", (headers) => resolve(Number(headers[":status"]))));
    return { stream, status };
  }

  async function session() {
    const client = connectHttp2(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    await new Promise<void>((resolve) => client.once("remoteSettings", () => resolve()));
    expect(client.remoteSettings.enableConnectProtocol).toBe(true);
    return client;
  }

  it("opens the endpoint with an extended CONNECT and exchanges frames", async () => {
    const client = await session();
    const { stream, status } = await connectWebSocket(client, "https://app.example.com");
    expect(status).toBe(200);
    const received = frames(stream);
    stream.write(clientFrame(0x1, Buffer.from("over h2")));
    await until(() => received.length > 0);
    expect(received[0]).toEqual([0x1, Buffer.from("echo: over h2")]);
    expect(requests.at(-1)?.httpVersion).toBe("2.0");
    expect(requests.at(-1)?.remoteAddress).toBe("127.0.0.1");
    // A close frame with a code: the server answers with its own close.
    stream.write(clientFrame(0x8, Buffer.from([0x03, 0xe8])));
    await until(() => received.some(([opcode]) => opcode === 0x8));
    client.close();
  });

  it("refuses a foreign origin with 403", async () => {
    const client = await session();
    const { status } = await connectWebSocket(client, "https://evil.example");
    expect(status).toBe(403);
    client.close();
  });
});

describe("WebSockets over HTTP/2 on a server with a compatibility 'request' handler", () => {
  let port = 0;
  let close: () => void;

  beforeAll(async () => {
    const endpoint = createWebSocketEndpoint(async (socket) => {
      for await (const message of socket) socket.send(`echo: ${message.text()}`);
    });
    // The app serves its pages with a request handler, and HTTP/1.1 clients too (allowHTTP1).
    const server = createSecureServer({ ...selfSignedCertificate(), allowHTTP1: true }, (_request, response) => response.writeHead(200).end("a page"));
    ({ port, close } = await serve(endpoint, server));
  });
  afterAll(() => close());

  it("opens the endpoint with an extended CONNECT while the handler serves the other requests", async () => {
    const client = connectHttp2(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    await new Promise<void>((resolve) => client.once("remoteSettings", () => resolve()));
    expect(client.remoteSettings.enableConnectProtocol).toBe(true);
    const stream = client.request({
      ":method": "CONNECT",
      ":protocol": "websocket",
      ":path": "/ws",
      ":scheme": "https",
      ":authority": `127.0.0.1:${port}`,
      "sec-websocket-version": "13",
    });
    expect(await new Promise<number>((resolve) => stream.once("response", (headers) => resolve(Number(headers[":status"]))))).toBe(200);
    const received = frames(stream);
    stream.write(clientFrame(0x1, Buffer.from("beside a handler")));
    await until(() => received.length > 0);
    expect(received[0]).toEqual([0x1, Buffer.from("echo: beside a handler")]);
    // A CONNECT for another path is not the endpoint's: 404, not the handler's page.
    const other = client.request({
      ":method": "CONNECT",
      ":protocol": "websocket",
      ":path": "/elsewhere",
      ":scheme": "https",
      ":authority": `127.0.0.1:${port}`,
    });
    expect(await new Promise<number>((resolve) => other.once("response", (headers) => resolve(Number(headers[":status"]))))).toBe(404);
    const page = client.request({ ":path": "/" });
    let body = "";
    page.setEncoding("utf8");
    page.on("data", (chunk: string) => (body += chunk));
    await new Promise<void>((resolve) => page.once("end", () => resolve()));
    expect(body).toBe("a page");
    client.close();
  });
});
