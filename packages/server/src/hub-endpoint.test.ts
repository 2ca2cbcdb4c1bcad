import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineHub } from "./hub.js";
import { eventually } from "./test-helpers/official-client.js";
import { negotiate, openWebSocket, RawHubSocket } from "./test-helpers/raw-client.js";
import { testHub } from "./test-helpers/test-hub.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

const handshake = '{"protocol":"json","version":1}\u001e';

describe("negotiate and transport requests over raw HTTP", () => {
  let server: RunningServer;
  let v0Server: RunningServer;

  beforeAll(async () => {
    server = await startServer({
      hubs: { "/hub": testHub },
      cors: { origins: ["https://app.example.com"] },
      hubOptions: { handshakeTimeoutMs: 200, clientTimeoutMs: 300, keepAliveIntervalMs: 100, disconnectTimeoutMs: 300 },
    });
    v0Server = await startServer({ hubs: { "/hub": testHub }, hubOptions: { minimumNegotiateVersion: 0 } });
  });
  afterAll(async () => {
    await server.close();
    await v0Server.close();
  });

  describe("negotiate", () => {
    it("describes a new connection: a public id, a different secret token, the transports", async () => {
      const { status, body, headers } = await negotiate(server.origin, "/hub");
      expect(status).toBe(200);
      expect(headers.get("content-type")).toContain("application/json");
      expect(body.negotiateVersion).toBe(1);
      expect(body.connectionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(body.connectionToken).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(body.connectionToken).not.toBe(body.connectionId);
      expect(body.availableTransports).toEqual([
        { transport: "WebSockets", transferFormats: ["Text", "Binary"] },
        { transport: "ServerSentEvents", transferFormats: ["Text"] },
        { transport: "LongPolling", transferFormats: ["Text", "Binary"] },
      ]);
    });

    it("never hands out the same id or token twice", async () => {
      const bodies = await Promise.all(Array.from({ length: 50 }, () => negotiate(server.origin, "/hub")));
      const values = bodies.flatMap(({ body }) => [body.connectionId, body.connectionToken]);
      expect(new Set(values).size).toBe(100);
    });

    it("clamps a newer version to 1 and reads the key case-insensitively", async () => {
      expect((await negotiate(server.origin, "/hub", "NegotiateVersion=7")).body.negotiateVersion).toBe(1);
    });

    it("refuses version 0 unless allowed, with SignalR's error shape (HTTP 200)", async () => {
      const refused = await negotiate(server.origin, "/hub", "");
      expect(refused.status).toBe(200);
      expect(refused.body).toEqual({ error: "The client requested version '0', but the server does not support this version." });
      const allowed = await negotiate(v0Server.origin, "/hub", "");
      expect(allowed.body.negotiateVersion).toBe(0);
      expect(allowed.body.connectionToken).toBeUndefined();
    });

    it("refuses a non-integer version", async () => {
      const { status, body } = await negotiate(server.origin, "/hub", "negotiateVersion=abc");
      expect(status).toBe(200);
      expect(body).toEqual({ error: "The client requested a non-integer protocol version." });
    });

    it("answers 405 to a method other than POST", async () => {
      const response = await fetch(`${server.origin}/hub/negotiate?negotiateVersion=1`);
      expect(response.status).toBe(405);
    });

    it("answers CORS with the exact origin and credentials, and nothing for other origins", async () => {
      const allowed = await negotiate(server.origin, "/hub", "negotiateVersion=1", { headers: { Origin: "https://app.example.com" } });
      expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
      expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
      const preflight = await fetch(`${server.origin}/hub/negotiate`, {
        method: "OPTIONS",
        headers: { Origin: "https://app.example.com", "Access-Control-Request-Headers": "x-signalr-user-agent" },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-headers")).toContain("X-SignalR-User-Agent");
      const other = await negotiate(server.origin, "/hub", "negotiateVersion=1", { headers: { Origin: "https://evil.example" } });
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
    });
  });

  describe("transport requests", () => {
    it("answers 400 to a transport request without an id", async () => {
      expect((await fetch(`${server.origin}/hub`)).status).toBe(400);
    });

    it("answers 404 to an unknown token, over HTTP and WebSocket", async () => {
      expect((await fetch(`${server.origin}/hub?id=nope`)).status).toBe(404);
      const refused = await openWebSocket(`ws://127.0.0.1:${server.port}/hub?id=nope`);
      expect(refused.status).toBe(404);
      expect(refused.body).toBe("No Connection with that ID");
    });

    it("never accepts the public connection id in place of the token", async () => {
      const { body } = await negotiate(server.origin, "/hub");
      const refused = await openWebSocket(`ws://127.0.0.1:${server.port}/hub?id=${body.connectionId}`);
      expect(refused.status).toBe(404);
      expect((await fetch(`${server.origin}/hub?id=${body.connectionId}`)).status).toBe(404);
    });

    it("answers 409 to a second WebSocket for the same token", async () => {
      const { body } = await negotiate(server.origin, "/hub");
      const first = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub?id=${body.connectionToken}`);
      const second = await openWebSocket(`ws://127.0.0.1:${server.port}/hub?id=${body.connectionToken}`);
      expect(second.status).toBe(409);
      first.close();
    });

    it("answers 405 to POST and 400 to DELETE on a WebSocket connection, 405 to other methods", async () => {
      const { body } = await negotiate(server.origin, "/hub");
      const socket = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub?id=${body.connectionToken}`);
      const url = `${server.origin}/hub?id=${body.connectionToken}`;
      const post = await fetch(url, { method: "POST", body: "x" });
      expect(post.status).toBe(405);
      expect(await post.text()).toBe("POST requests are not allowed for WebSocket connections.");
      expect((await fetch(url, { method: "DELETE" })).status).toBe(400);
      expect((await fetch(url, { method: "PUT" })).status).toBe(405);
      socket.close();
    });

    it("drops a negotiated connection that never connects, after the disconnect timeout", async () => {
      const { body } = await negotiate(server.origin, "/hub");
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await openWebSocket(`ws://127.0.0.1:${server.port}/hub?id=${body.connectionToken}`)).status).toBe(404);
    });

    it("refuses a WebSocket from a foreign origin before the upgrade, and lets allowed and same-origin ones in", async () => {
      const url = `ws://127.0.0.1:${server.port}/hub`;
      expect((await openWebSocket(url, { Origin: "https://evil.example" })).status).toBe(403);
      const allowed = await openWebSocket(url, { Origin: "https://app.example.com" });
      expect(allowed.socket).toBeDefined();
      allowed.socket?.terminate();
      const same = await openWebSocket(url, { Origin: `http://127.0.0.1:${server.port}` });
      expect(same.socket).toBeDefined();
      same.socket?.terminate();
    });

    it("answers a plain request for an unknown path through the app's own handler", async () => {
      expect((await fetch(`${server.origin}/elsewhere`)).status).toBe(404);
      expect(await (await fetch(`${server.origin}/elsewhere`)).text()).toBe("not a hub");
    });
  });

  describe("handshake", () => {
    async function handshakeAnswer(request: string): Promise<{ records: unknown[]; closed: boolean }> {
      const socket = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub`);
      socket.send(request);
      await eventually(() => socket.closed !== undefined || socket.records.length > 0);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const result = { records: socket.records, closed: socket.closed !== undefined };
      socket.close();
      return result;
    }

    it("answers {} to versions 1 and 2 of both protocols", async () => {
      for (const protocol of ["json", "messagepack"]) {
        for (const version of [1, 2]) {
          const socket = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub`);
          socket.send(`{"protocol":"${protocol}","version":${version}}\u001e`);
          await eventually(() => socket.frames.length > 0);
          expect(socket.frames[0]!.data.toString()).toBe("{}\u001e");
          expect(socket.frames[0]!.isBinary).toBe(protocol === "messagepack");
          socket.close();
        }
      }
    });

    it("refuses an unknown protocol and an unsupported version with SignalR's texts, then closes", async () => {
      expect(await handshakeAnswer('{"protocol":"xml","version":1}\u001e')).toEqual({
        records: [{ error: "The protocol 'xml' is not supported." }],
        closed: true,
      });
      expect(await handshakeAnswer('{"protocol":"json","version":3}\u001e')).toEqual({
        records: [{ error: "The server does not support version 3 of the 'json' protocol." }],
        closed: true,
      });
    });

    it("refuses a handshake that is not JSON, and one over the size limit", async () => {
      const bad = await handshakeAnswer("not json\u001e");
      expect(bad.closed).toBe(true);
      expect(bad.records).toHaveLength(1);
      const socket = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub`);
      socket.send("x".repeat(40 * 1024));
      await eventually(() => socket.closed !== undefined);
    });

    it("reads hub messages that follow the handshake in the same frame", async () => {
      const socket = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub`);
      socket.send(`${handshake}{"type":1,"invocationId":"1","target":"echo","arguments":[42]}\u001e`);
      await eventually(() => socket.records.length >= 2);
      expect(socket.records[1]).toEqual({ type: 3, invocationId: "1", result: 42 });
      socket.close();
    });

    it("drops a client that never completes the handshake, at the handshake timeout", async () => {
      const socket = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub`);
      socket.send('{"protocol":');
      await eventually(() => socket.closed !== undefined, 2_000, "the handshake timeout");
    });
  });

  describe("messages on a raw connection", () => {
    async function connected(): Promise<RawHubSocket> {
      const socket = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub`);
      socket.send(handshake);
      await eventually(() => socket.records.length > 0);
      return socket;
    }

    it("never answers an invocation without an id, even one that fails", async () => {
      const socket = await connected();
      socket.send('{"type":1,"target":"echo","arguments":[1]}\u001e{"type":1,"target":"nope","arguments":[]}\u001e');
      socket.send('{"type":1,"target":"throwPlain","arguments":["x"]}\u001e{"type":1,"invocationId":"7","target":"echo","arguments":[2]}\u001e');
      await eventually(() => socket.records.some((record) => (record as { invocationId?: string }).invocationId === "7"));
      const completions = socket.records.filter((record) => (record as { type: number }).type === 3);
      expect(completions).toEqual([{ type: 3, invocationId: "7", result: 2 }]);
      socket.close();
    });

    it("pings an idle connection and drops a silent one at the client timeout", async () => {
      const socket = await connected();
      await eventually(() => socket.records.some((record) => (record as { type: number }).type === 6), 1_000, "a ping");
      await eventually(() => socket.closed !== undefined, 2_000, "the client timeout");
      expect(socket.records.at(-1)).toMatchObject({ type: 7 });
    });

    it("closes a connection that sends malformed JSON, and only that one", async () => {
      const healthy = await connected();
      const bad = await connected();
      bad.send("{nope}\u001e");
      await eventually(() => bad.closed !== undefined);
      // allowReconnect, as .NET's Close for bad input has it.
      expect(bad.records.at(-1)).toEqual({ type: 7, error: "Connection closed with an error.", allowReconnect: true });
      healthy.send('{"type":1,"invocationId":"1","target":"echo","arguments":["ok"]}\u001e');
      await eventually(() => healthy.records.some((record) => (record as { result?: string }).result === "ok"));
      healthy.close();
    });

    it("closes a connection that sends JSON over a MessagePack handshake", async () => {
      const socket = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub`);
      socket.send('{"protocol":"messagepack","version":1}\u001e');
      await eventually(() => socket.frames.length > 0);
      socket.send(Buffer.from(`${"x".repeat(40 * 1024)}`));
      await eventually(() => socket.closed !== undefined);
    });
  });
});

describe("a client that stops reading", () => {
  it("is cut at the outbound buffer cap, and a healthy neighbour keeps working", async () => {
    const server = await startServer({ hubs: { "/hub": testHub }, hubOptions: { maxOutboundBufferBytes: 256 * 1024 } });
    try {
      const healthy = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub`);
      healthy.send(handshake);
      const slow = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub`);
      slow.send(handshake);
      await eventually(() => healthy.records.length > 0 && slow.records.length > 0);
      // Stop reading on the slow side: the kernel buffers fill, then the server's.
      (slow.socket as unknown as { _socket: import("node:net").Socket })._socket.pause();
      const big = "x".repeat(16 * 1024);
      for (let i = 0; i < 300; i++) {
        slow.send(`{"type":1,"target":"echo","arguments":["${big}"],"invocationId":"${i}"}\u001e`);
      }
      await eventually(() => server.hubs.connectionCount("/hub") === 1, 10_000, "the slow client to be cut");
      healthy.send('{"type":1,"invocationId":"h","target":"echo","arguments":["fine"]}\u001e');
      await eventually(() => healthy.records.some((record) => (record as { result?: string }).result === "fine"));
      healthy.close();
      slow.close();
    } finally {
      await server.close();
    }
  });
});

describe("hub definition", () => {
  it("refuses two methods that differ only in case", () => {
    expect(() => defineHub<{ server: { a(): void; A(): void }; client: object }>({ methods: { a: () => undefined, A: () => undefined } })).toThrow(
      /differ only in case/,
    );
  });
});
