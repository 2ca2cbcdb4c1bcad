/**
 * Requests on an ended connection (issue 17): whatever ended it, every later request that names
 * its token gets .NET's 404 with its body, after a long-polling client has been told of the end.
 */
import type { HubContract } from "@hubwire/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineHub } from "./index.js";
import { eventually } from "./test-helpers/official-client.js";
import { negotiate, openWebSocket, RawHubSocket } from "./test-helpers/raw-client.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

interface Ending extends HubContract {
  server: { closeMe(): void; ok(): string };
  client: object;
}

const hub = defineHub<Ending>({
  methods: {
    closeMe: (ctx) => void setTimeout(() => ctx.close({ error: "Closed by the hub." }), 10),
    ok: () => "ok",
  },
});

const handshake = '{"protocol":"json","version":1}\u001e';
const record = (value: object) => `${JSON.stringify(value)}\u001e`;

describe("requests on an ended connection", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ hubs: { "/hub": hub }, hubOptions: { disconnectTimeoutMs: 300, clientTimeoutMs: 300, keepAliveIntervalMs: 100 } });
  });
  afterAll(() => server.close());

  const url = (token: string) => `${server.origin}/hub?id=${token}`;

  /** Every kind of request for `token` answers 404 with .NET's body. */
  async function expectGone(token: string): Promise<void> {
    const requests: Array<[string, RequestInit]> = [
      ["poll", {}],
      ["event stream", { headers: { Accept: "text/event-stream" } }],
      ["send", { method: "POST", body: record({ type: 6 }) }],
      ["delete", { method: "DELETE" }],
    ];
    for (const [what, init] of requests) {
      const response = await fetch(url(token), init);
      expect({ what, status: response.status, body: await response.text() }).toEqual({ what, status: 404, body: "No Connection with that ID" });
    }
    const webSocket = await openWebSocket(`${url(token).replace("http", "ws")}`);
    expect({ status: webSocket.status, body: webSocket.body }).toEqual({ status: 404, body: "No Connection with that ID" });
  }

  /** A long-polling connection past its handshake and first poll. */
  async function longPolling(): Promise<string> {
    const { body } = await negotiate(server.origin, "/hub");
    const token = body.connectionToken!;
    expect((await fetch(url(token))).status).toBe(200);
    expect((await fetch(url(token), { method: "POST", body: handshake })).status).toBe(200);
    expect(await (await fetch(url(token))).text()).toBe("{}\u001e");
    return token;
  }

  it("after a DELETE: the poll in flight gets 204, and everything after it 404", async () => {
    const token = await longPolling();
    const poll = fetch(url(token));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await fetch(url(token), { method: "DELETE" })).status).toBe(202);
    expect((await poll).status).toBe(204);
    await expectGone(token);
  });

  it("after the client's Close message: the POST that carried it gets 200, the poll 204, then 404", async () => {
    const token = await longPolling();
    const poll = fetch(url(token));
    expect((await fetch(url(token), { method: "POST", body: record({ type: 7 }) })).status).toBe(200);
    expect((await poll).status).toBe(204);
    await expectGone(token);
  });

  it("after the server closed it: the next poll gets the Close, the one after it 204, then 404", async () => {
    const token = await longPolling();
    await fetch(url(token), { method: "POST", body: record({ type: 1, invocationId: "1", target: "closeMe", arguments: [] }) });
    let text = "";
    while (!text.includes('"type":7')) text += await (await fetch(url(token))).text();
    expect(text).toContain('{"type":7,"error":"Closed by the hub."}\u001e');
    expect((await fetch(url(token))).status).toBe(204);
    await expectGone(token);
  });

  it("after the disconnect timeout (the client stopped polling): 404 at once", async () => {
    const token = await longPolling();
    // Sends do not count as polls: once one is refused, the connection has timed out.
    for (let status = 200; status === 200; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = (await fetch(url(token), { method: "POST", body: record({ type: 6 }) })).status;
    }
    await expectGone(token);
  });

  it("after a WebSocket connection closed, and after an SSE one timed out", async () => {
    const { body } = await negotiate(server.origin, "/hub");
    const socket = await RawHubSocket.open(url(body.connectionToken!).replace("http", "ws"));
    socket.send(handshake);
    await eventually(() => socket.records.length >= 1);
    socket.socket.close(1000);
    await eventually(() => socket.closed !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expectGone(body.connectionToken!);

    const sse = await negotiate(server.origin, "/hub");
    const controller = new AbortController();
    const stream = await fetch(url(sse.body.connectionToken!), { headers: { Accept: "text/event-stream" }, signal: controller.signal });
    expect(stream.status).toBe(200);
    await fetch(url(sse.body.connectionToken!), { method: "POST", body: handshake });
    // Silent past the client timeout: the server ends it.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    controller.abort();
    await expectGone(sse.body.connectionToken!);
  });

  it("after a negotiated connection never attached a transport", async () => {
    const { body } = await negotiate(server.origin, "/hub");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await expectGone(body.connectionToken!);
  });
});
