import { request as httpRequest, type IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineHub } from "../hub.js";
import { eventually } from "../test-helpers/official-client.js";
import { negotiate } from "../test-helpers/raw-client.js";
import { testHub } from "../test-helpers/test-hub.js";
import { type RunningServer, startServer } from "../test-helpers/test-server.js";

describe("Server-Sent Events over raw HTTP", () => {
  let server: RunningServer;
  beforeAll(async () => {
    const wsOnly = defineHub<{ server: { ping(): void }; client: object }>({ methods: { ping: () => undefined }, options: { transports: ["WebSockets"] } });
    server = await startServer({ hubs: { "/hub": testHub, "/ws-only": wsOnly } });
  });
  afterAll(() => server.close());

  function openStream(token: string): Promise<{ response: IncomingMessage; text: () => string }> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(`${server.origin}/hub?id=${token}`, { headers: { Accept: "text/event-stream" } }, (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        resolve({ response, text: () => text });
      });
      request.on("error", reject);
      request.end();
    });
  }

  it("sends SignalR's headers and a comment first, then each frame as data lines", async () => {
    const { body } = await negotiate(server.origin, "/hub");
    const stream = await openStream(body.connectionToken!);
    expect(stream.response.statusCode).toBe(200);
    expect(stream.response.headers["content-type"]).toBe("text/event-stream");
    expect(stream.response.headers["cache-control"]).toBe("no-cache,no-store");
    expect(stream.response.headers["pragma"]).toBe("no-cache");
    expect(stream.response.headers["content-encoding"]).toBe("identity");
    await eventually(() => stream.text() === ":\r\n");
    const url = `${server.origin}/hub?id=${body.connectionToken}`;
    expect((await fetch(url, { method: "POST", body: '{"protocol":"json","version":1}\u001e' })).status).toBe(200);
    await fetch(url, { method: "POST", body: '{"type":1,"invocationId":"1","target":"echo","arguments":["hi"]}\u001e' });
    await eventually(() => stream.text().includes('"result"'));
    expect(stream.text()).toBe(':\r\ndata: {}\u001e\r\n\r\ndata: {"type":3,"invocationId":"1","result":"hi"}\u001e\r\n\r\n');
    // A second event stream is 409; a long poll on it 400, as .NET answers a change of transport.
    expect((await fetch(url, { headers: { Accept: "text/event-stream" } })).status).toBe(409);
    const poll = await fetch(url);
    expect({ status: poll.status, text: await poll.text() }).toEqual({ status: 400, text: "Cannot change transports mid-connection" });
    stream.response.destroy();
  });

  it("refuses MessagePack at the handshake: the transport carries text only", async () => {
    const { body } = await negotiate(server.origin, "/hub");
    const stream = await openStream(body.connectionToken!);
    await fetch(`${server.origin}/hub?id=${body.connectionToken}`, { method: "POST", body: '{"protocol":"messagepack","version":1}\u001e' });
    await eventually(() => stream.text().includes("error"));
    expect(stream.text()).toContain("Cannot use the 'messagepack' protocol on the current transport. The transport does not support 'Binary' transfer format.");
  });

  it("lists and serves only the transports a hub allows", async () => {
    const { body } = await negotiate(server.origin, "/hub");
    expect(body.availableTransports?.map((entry) => entry.transport)).toEqual(["WebSockets", "ServerSentEvents", "LongPolling"]);
    expect(body.availableTransports?.[1]).toEqual({ transport: "ServerSentEvents", transferFormats: ["Text"] });
    const restricted = await negotiate(server.origin, "/ws-only");
    expect(restricted.body.availableTransports?.map((entry) => entry.transport)).toEqual(["WebSockets"]);
    const poll = await fetch(`${server.origin}/ws-only?id=${restricted.body.connectionToken}`);
    expect(poll.status).toBe(404);
    expect(await poll.text()).toBe("LongPolling transport not supported by this end point type");
  });
});
