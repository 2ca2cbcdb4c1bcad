import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { deflateRawSync } from "node:zlib";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { eventually } from "../test-helpers/official-client.js";
import { createWebSocketEndpoint, type EndpointClose, type WebSocketEndpointOptions, type WebSocketHandler } from "./websocket-endpoint.js";

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(handler: WebSocketHandler, options: WebSocketEndpointOptions = {}) {
  const endpoint = createWebSocketEndpoint(handler, options);
  const server: Server = createServer((request, response) =>
    request.url === "/ws" ? endpoint.handleRequest(request, response) : response.writeHead(404).end(),
  );
  server.on("upgrade", (request, socket, head) => endpoint.handleUpgrade(request, socket, head));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => {
    endpoint.close();
    server.closeAllConnections();
    server.close();
  });
  return { endpoint, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`, port: (server.address() as AddressInfo).port };
}

const echo: WebSocketHandler = async (socket) => {
  for await (const message of socket) socket.send(message.data, { binary: message.isBinary });
};

type TestSocket = WebSocket & { negotiated: string; received: Array<{ data: Buffer; isBinary: boolean }> };

/** Opens a client that records messages from the first frame on (one may arrive with the upgrade answer). */
function connect(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const socket = Object.assign(new WebSocket(url, options), { negotiated: "", received: [] as Array<{ data: Buffer; isBinary: boolean }> });
    socket.on("message", (data: Buffer, isBinary) => socket.received.push({ data, isBinary }));
    socket.once("upgrade", (response) => (socket.negotiated = String(response.headers["sec-websocket-extensions"] ?? "")));
    socket.once("open", () => resolve(socket));
    socket.once("unexpected-response", (_request, response) => reject(new Error(String(response.statusCode))));
    socket.once("error", reject);
    cleanups.push(() => socket.terminate());
  });
}

async function nextMessage(socket: TestSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  while (socket.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  return socket.received.shift()!;
}

describe("the raw WebSocket endpoint", () => {
  it("answers a client's close without a status code with 1000, as Kestrel does", async () => {
    const { url } = await serve(echo);
    const socket = await connect(url);
    // An empty close frame: ws would echo it, and the client would see 1005.
    const code = await new Promise<number>((resolve) => {
      socket.once("close", resolve);
      socket.close();
    });
    expect(code).toBe(1000);
  });

  it("answers plain HTTP to its path with 400", async () => {
    const { port } = await serve(echo);
    const response = await fetch(`http://127.0.0.1:${port}/ws`);
    expect(response.status).toBe(400);
  });

  it("refuses an origin outside the allow-list with 403 before the upgrade, and lets listed ones in", async () => {
    const { url } = await serve(echo, { allowedOrigins: ["https://app.example.com"] });
    await expect(connect(url, { headers: { Origin: "https://evil.example" } })).rejects.toThrow("403");
    await expect(connect(url, { headers: { Origin: "https://app.example.com:8443" } })).rejects.toThrow("403");
    const allowed = await connect(url, { headers: { Origin: "https://app.example.com" } });
    expect(allowed.readyState).toBe(WebSocket.OPEN);
  });

  it("allows every origin when the list is empty", async () => {
    const { url } = await serve(echo);
    expect((await connect(url, { headers: { Origin: "https://anywhere.example" } })).readyState).toBe(WebSocket.OPEN);
  });

  it("echoes text and binary, and delivers a fragmented message whole", async () => {
    const { url } = await serve(echo);
    const client = await connect(url);
    client.send("héllo");
    const text = await nextMessage(client);
    expect([text.data.toString(), text.isBinary]).toEqual(["héllo", false]);
    client.send(Uint8Array.of(1, 2, 3));
    const binary = await nextMessage(client);
    expect([[...binary.data], binary.isBinary]).toEqual([[1, 2, 3], true]);
    client.send("frag", { fin: false });
    client.send("ment", { fin: true });
    expect((await nextMessage(client)).data.toString()).toBe("fragment");
  });

  it("delivers fragments one by one with endOfMessage when asked, keeping split characters whole", async () => {
    const seen: Array<[string, boolean]> = [];
    const { url } = await serve(
      async (socket) => {
        for await (const message of socket) {
          seen.push([message.text(), message.endOfMessage]);
          if (message.endOfMessage) socket.send("done");
        }
      },
      { fragments: "each" },
    );
    const client = await connect(url);
    const euro = Buffer.from("€"); // three bytes, split across two frames below
    client.send(Buffer.concat([Buffer.from("ab"), euro.subarray(0, 1)]), { fin: false, binary: false });
    client.send(Buffer.concat([euro.subarray(1), Buffer.from("cd")]), { fin: false, binary: false });
    client.send("ef", { fin: true });
    await nextMessage(client);
    expect(seen).toEqual([
      ["ab", false],
      ["€cd", false],
      ["ef", true],
    ]);
    client.send("whole");
    await nextMessage(client);
    expect(seen.at(-1)).toEqual(["whole", true]);
    const closed = new Promise<number>((resolve) => client.once("close", resolve));
    client.send(Buffer.from([0x61, 0xff, 0x62]), { fin: false, binary: false });
    expect(await closed).toBe(1007);
  });

  it("surfaces close codes and descriptions both ways", async () => {
    let serverSaw: EndpointClose | undefined;
    const { url } = await serve(async (socket) => {
      serverSaw = await socket.closed;
    });
    const client = await connect(url);
    client.close(4001, "client says bye");
    await new Promise((resolve) => client.once("close", resolve));
    await eventually(() => serverSaw !== undefined, 5_000, "the handler to see the close");
    expect(serverSaw).toEqual({ code: 4001, reason: "client says bye", initiatedBy: "client" });

    const { url: second } = await serve(async (socket) => {
      for await (const message of socket) if (message.text() === "go") socket.close(4002, "server says bye");
    });
    const other = await connect(second);
    const closed = new Promise<[number, string]>((resolve) => other.once("close", (code, reason) => resolve([code, reason.toString()])));
    other.send("go");
    expect(await closed).toEqual([4002, "server says bye"]);
  });

  it("keeps the socket open until the handler settles, and ignores sends after the end", async () => {
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    let lateSend: boolean | undefined;
    const { url } = await serve(async (socket) => {
      socket.send("started");
      await done; // background work, as the seed's TaskCompletionSource pattern
      void socket.closed.then(() => (lateSend = socket.send("too late")));
    });
    const client = await connect(url);
    await nextMessage(client);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(client.readyState).toBe(WebSocket.OPEN);
    const closed = new Promise<number>((resolve) => client.once("close", resolve));
    release();
    expect(await closed).toBe(1000);
    await eventually(() => lateSend !== undefined, 5_000, "the late send");
    expect(lateSend).toBe(false);
  });

  it("pings at the interval and closes a silent client after twice that, telling the handler why", async () => {
    let serverSaw: EndpointClose | undefined;
    const { url } = await serve(async (socket) => void (serverSaw = await socket.closed), { keepAliveIntervalMs: 100 });
    const pings: number[] = [];
    const client = await connect(url, { autoPong: false });
    client.on("ping", () => pings.push(Date.now()));
    const closed = new Promise<[number, string]>((resolve) => client.once("close", (code, reason) => resolve([code, reason.toString()])));
    const [code] = await closed;
    expect(pings.length).toBeGreaterThanOrEqual(1);
    expect(code).toBe(1001);
    await eventually(() => serverSaw !== undefined, 5_000, "the handler to see the close");
    expect(serverSaw?.initiatedBy).toBe("timeout");
  });

  it("keeps a client that answers pings", async () => {
    const { url } = await serve(echo, { keepAliveIntervalMs: 50 });
    const client = await connect(url);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(client.readyState).toBe(WebSocket.OPEN);
  });

  it("keeps its clients when the wall clock jumps ahead (keep-alive runs on a monotonic clock)", async () => {
    const { url } = await serve(echo, { keepAliveIntervalMs: 50 });
    const client = await connect(url);
    vi.useFakeTimers({ toFake: ["Date"] });
    cleanups.push(() => void vi.useRealTimers());
    vi.setSystemTime(Date.now() + 3_600_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(client.readyState).toBe(WebSocket.OPEN);
  });

  it("negotiates compression with the configured parameters, and sends an opted-out message uncompressed", async () => {
    const { url } = await serve(
      async (socket) => {
        for await (const message of socket) {
          socket.send(message.text().repeat(100), { compress: true });
          socket.send(`secret ${message.text()}`.repeat(100), { compress: false });
        }
      },
      { compression: { serverMaxWindowBits: 10, serverNoContextTakeover: true, thresholdBytes: 0 } },
    );
    const client = await connect(url, { perMessageDeflate: { serverMaxWindowBits: 10 } });
    expect(client.negotiated).toContain("permessage-deflate");
    expect(client.negotiated).toContain("server_max_window_bits=10");
    expect(client.negotiated).toContain("server_no_context_takeover");
    // Read RSV1 off the raw frames: the bit that marks a compressed message.
    const rsv1: boolean[] = [];
    const raw = (client as unknown as { _socket: import("node:net").Socket })._socket;
    let pending = Buffer.alloc(0);
    raw.prependListener("data", (chunk: Buffer) => {
      // Walk the server's (unmasked) frames: header, extended length, payload.
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (pending.length < 2) return;
        const length7 = pending[1]! & 0x7f;
        const header = length7 === 126 ? 4 : length7 === 127 ? 10 : 2;
        if (pending.length < header) return;
        const length = length7 === 126 ? pending.readUInt16BE(2) : length7 === 127 ? Number(pending.readBigUInt64BE(2)) : length7;
        if (pending.length < header + length) return;
        if ((pending[0]! & 0x0f) === 0x01) rsv1.push((pending[0]! & 0x40) !== 0);
        pending = pending.subarray(header + length);
      }
    });
    client.send("abc");
    await eventually(() => client.received.length >= 2 && rsv1.length >= 2, 5_000, "both echoes");
    expect(client.received.map((message) => message.data.toString())).toEqual(["abc".repeat(100), "secret abc".repeat(100)]);
    expect(rsv1).toEqual([true, false]);
  });

  it("refuses a deflate bomb at the size limit, counting the inflated size", async () => {
    const { url } = await serve(echo, { compression: {}, maxMessageBytes: 64 * 1024 });
    const client = await connect(url, { perMessageDeflate: true });
    const closed = new Promise<number>((resolve) => client.once("close", resolve));
    // 10 MB of zeros compresses to about 10 KB: small on the wire, far over the limit inflated.
    expect(deflateRawSync(Buffer.alloc(10 * 1024 * 1024)).length).toBeLessThan(64 * 1024);
    client.send(Buffer.alloc(10 * 1024 * 1024), { compress: true });
    expect(await closed).toBe(1009);
  });
});
