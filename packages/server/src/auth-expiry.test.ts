import { startTcpProxy } from "@hubwire/test-support";
import { HttpTransportType } from "@microsoft/signalr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "./index.js";
import { buildOfficialClient, eventually } from "./test-helpers/official-client.js";
import { negotiate, openWebSocket } from "./test-helpers/raw-client.js";
import { testHub } from "./test-helpers/test-hub.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

// Tokens here read "<user>.<expiry in ms since the epoch>", as a verified JWT's sub and exp would.
const token = (user: string, lifetimeMs: number) => `${user}.${Date.now() + lifetimeMs}`;
const principalOf = (accessToken: string | undefined): Principal | undefined => {
  if (accessToken === undefined) return undefined;
  const [userId, expiresAtMs] = accessToken.split(".");
  return { userId: userId!, expiresAtMs: Number(expiresAtMs) };
};

describe("authentication expiry", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({
      hubs: { "/hub": testHub },
      authenticate: ({ accessToken }) => principalOf(accessToken),
      // A short keep-alive makes the endpoint's timer visit connections often.
      hubOptions: { keepAliveIntervalMs: 200, allowStatefulReconnect: true, statefulReconnectWindowMs: 2_000 },
    });
  });
  afterAll(() => server.close());

  for (const transport of [HttpTransportType.WebSockets, HttpTransportType.LongPolling]) {
    it(`closes a ${HttpTransportType[transport]} connection when its token expires; the official client reconnects with a fresh one`, async () => {
      // The client asks for a token for negotiate and again for the transport: those of the
      // first start expire soon, those of the reconnect later.
      const issued: string[] = [];
      let started = false;
      const { connection } = buildOfficialClient(`${server.origin}/hub`, "json", {
        transport,
        reconnectDelaysMs: [0],
        accessTokenFactory: () => {
          issued.push(token("ada", started ? 60_000 : 600));
          return issued.at(-1)!;
        },
      });
      const reasons: string[] = [];
      connection.onreconnecting((error) => reasons.push(error?.message ?? ""));
      await connection.start();
      started = true;
      const tokensToStart = issued.length;
      const first = connection.connectionId;
      expect(await connection.invoke("echo", "before")).toBe("before");
      await eventually(() => connection.connectionId !== first && connection.state === "Connected", 5_000, "a reconnect");
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toContain("authentication expired");
      expect(issued.length).toBeGreaterThan(tokensToStart);
      expect(await connection.invoke("echo", "after")).toBe("after");
      await connection.stop();
    });
  }

  it("lets the official client's stateful reconnect resume with a fresh token past the first one's expiry", async () => {
    const proxy = await startTcpProxy(server.port);
    let cut = false;
    const { connection } = buildOfficialClient(`http://127.0.0.1:${proxy.port}/hub`, "json", {
      statefulReconnect: true,
      reconnectDelaysMs: [0],
      // The client asks again when it re-attaches: tokens from then on last longer.
      accessTokenFactory: () => token("ada", cut ? 60_000 : 1_500),
    });
    try {
      let reconnecting = 0;
      connection.onreconnecting(() => reconnecting++);
      await connection.start();
      const first = connection.connectionId;
      const before = proxy.connectionCount;
      cut = true;
      proxy.cut();
      await eventually(() => proxy.connectionCount > before, 5_000, "the client to re-attach");
      await new Promise((resolve) => setTimeout(resolve, 1_700));
      expect(await connection.invoke("echo", "resumed")).toBe("resumed");
      expect([connection.connectionId, reconnecting]).toEqual([first, 0]);
    } finally {
      await connection.stop();
      await proxy.close();
    }
  });

  it("refuses a token that has already expired with 401, at negotiate and at the WebSocket", async () => {
    const stale = token("ada", -1);
    const negotiated = await negotiate(server.origin, "/hub", "negotiateVersion=1", { headers: { Authorization: `Bearer ${stale}` } });
    expect([negotiated.status, negotiated.text]).toEqual([401, "Unauthorized: the token has expired."]);
    const opened = await openWebSocket(`ws://127.0.0.1:${server.port}/hub?access_token=${stale}`);
    expect(opened.status).toBe(401);
    // A token without an expiry claim, read as `undefined * 1000`: refused, not kept forever.
    const unreadable = await negotiate(server.origin, "/hub", "negotiateVersion=1", { headers: { Authorization: "Bearer ada.NaN" } });
    expect(unreadable.status).toBe(401);
  });

  it("lets a stateful reconnect of the same user extend the expiry, and refuses another user's with 403", async () => {
    const { body } = await negotiate(server.origin, "/hub", "negotiateVersion=1&useStatefulReconnect=true", {
      headers: { Authorization: `Bearer ${token("ada", 60_000)}` },
    });
    const url = (accessToken: string) => `ws://127.0.0.1:${server.port}/hub?id=${body.connectionToken}&access_token=${accessToken}`;
    const first = await openWebSocket(url(token("ada", 700)));
    first.socket!.send('{"protocol":"json","version":2}\u001e');
    await eventually(() => first.frames.join("").includes("{}\u001e"));
    first.socket!.terminate();

    const other = await openWebSocket(url(token("eve", 60_000)));
    expect([other.status, other.body]).toEqual([403, "The connection belongs to another user."]);

    const resumed = await openWebSocket(url(token("ada", 60_000)));
    const socket = resumed.socket!;
    await eventually(() => resumed.frames.join("").includes('"type":9'));
    // Past the first token's expiry the connection is still open and answers.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    socket.send('{"type":9,"sequenceId":1}\u001e{"type":1,"invocationId":"1","target":"echo","arguments":["still here"]}\u001e');
    await eventually(() => resumed.frames.join("").includes('"result":"still here"'));
    expect(resumed.frames.join("")).not.toContain("authentication expired");
    socket.terminate();
  });
});
