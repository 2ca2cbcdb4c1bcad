import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { negotiate } from "../test-helpers/raw-client.js";
import { testHub } from "../test-helpers/test-hub.js";
import { type RunningServer, startServer } from "../test-helpers/test-server.js";

const handshake = '{"protocol":"json","version":1}\u001e';

describe("long polling over raw HTTP", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({
      hubs: { "/hub": testHub },
      hubOptions: { longPollTimeoutMs: 300, disconnectTimeoutMs: 400, clientTimeoutMs: 300, maxMessageBytes: 1024 },
      maxFrameBytes: 64 * 1024,
    });
  });
  afterAll(() => server.close());

  async function open(): Promise<string> {
    const { body } = await negotiate(server.origin, "/hub");
    const first = await fetch(`${server.origin}/hub?id=${body.connectionToken}`);
    expect(first.status).toBe(200);
    expect(await first.text()).toBe("");
    return body.connectionToken!;
  }
  const url = (token: string) => `${server.origin}/hub?id=${token}&_=${Date.now()}`;
  const post = (token: string, body: string) => fetch(url(token), { method: "POST", body });

  it("answers the first poll at once and empty, then delivers the handshake answer and results", async () => {
    const token = await open();
    expect((await post(token, handshake)).status).toBe(200);
    expect(await (await fetch(url(token))).text()).toBe("{}\u001e");
    const sent = await post(token, '{"type":1,"invocationId":"1","target":"echo","arguments":[7]}\u001e');
    expect([sent.status, sent.headers.get("content-length"), sent.headers.get("transfer-encoding")]).toEqual([200, "0", null]);
    const poll = await fetch(url(token));
    expect(poll.headers.get("content-type")).toBe("application/octet-stream");
    expect(poll.headers.get("cache-control")).toContain("no-cache");
    expect(await poll.text()).toBe('{"type":3,"invocationId":"1","result":7}\u001e');
  });

  it("answers a poll with nothing to deliver empty (200) at the poll timeout, and sends no pings", async () => {
    const token = await open();
    await post(token, handshake);
    await fetch(url(token));
    const started = Date.now();
    const poll = await fetch(url(token));
    expect(poll.status).toBe(200);
    expect(await poll.text()).toBe("");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it("ends an older poll with 204 when a newer one arrives", async () => {
    const token = await open();
    await post(token, handshake);
    await fetch(url(token));
    const older = fetch(url(token));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const newer = fetch(url(token));
    expect((await older).status).toBe(204);
    expect((await newer).status).toBe(200);
  });

  it("reads several records in one POST, and overlapping POSTs one after the other", async () => {
    const token = await open();
    await post(token, handshake);
    await fetch(url(token));
    const invoke = (id: number) => `{"type":1,"invocationId":"${id}","target":"echo","arguments":[${id}]}\u001e`;
    const results = await Promise.all([post(token, invoke(1) + invoke(2)), post(token, invoke(3)), post(token, invoke(4) + invoke(5))]);
    expect(results.map((result) => result.status)).toEqual([200, 200, 200]);
    let text = "";
    while ((text.match(/"type":3/g) ?? []).length < 5) text += await (await fetch(url(token))).text();
    const ids = text
      .split("\u001e")
      .filter(Boolean)
      .map((record) => (JSON.parse(record) as { invocationId: string }).invocationId)
      .sort();
    expect(ids).toEqual(["1", "2", "3", "4", "5"]);
  });

  it("joins a record split across the chunks of a slow POST body", async () => {
    const token = await open();
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(url(token), { method: "POST" }, (response) => resolve(response.statusCode ?? 0));
      request.on("error", reject);
      request.write(handshake.slice(0, 10));
      setTimeout(() => {
        request.write(handshake.slice(10));
        request.end();
      }, 100);
    });
    expect(status).toBe(200);
    expect(await (await fetch(url(token))).text()).toBe("{}\u001e");
  });

  it("refuses a POST body that stalls, and ends that connection", async () => {
    const token = await open();
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(url(token), { method: "POST", headers: { "Content-Length": "100" } }, (response) => resolve(response.statusCode ?? 0));
      request.on("error", reject);
      request.write("{");
    });
    expect(status).toBe(408);
    expect((await fetch(url(token))).status).toBe(204);
  });

  it("still refuses a stalled POST body with 408 after its connection ended (DELETE) meanwhile", async () => {
    const token = await open();
    await post(token, handshake);
    const status = new Promise<number>((resolve, reject) => {
      const request = httpRequest(url(token), { method: "POST", headers: { "Content-Length": "100" } }, (response) => resolve(response.statusCode ?? 0));
      request.on("error", reject);
      request.write("{");
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await fetch(url(token), { method: "DELETE" })).status).toBe(202);
    expect(await status).toBe(408);
  });

  it("answers 404 to a POST that waited behind one refused with 413: the refusal ended the connection first", async () => {
    const token = await open();
    await post(token, handshake);
    const big = Buffer.from(`{"type":1,"target":"record","arguments":[1]}\u001e`.repeat(2_000));
    const refused = new Promise<number>((resolve) => {
      const request = httpRequest(url(token), { method: "POST", headers: { "Content-Length": String(big.length) } }, (response) =>
        resolve(response.statusCode ?? 0),
      );
      request.on("error", () => resolve(-1));
      request.write(big.subarray(0, 1024));
      setTimeout(() => request.end(big.subarray(1024)), 150);
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const waited = post(token, '{"type":1,"target":"record","arguments":[2]}\u001e');
    expect(await refused).toBe(413);
    expect((await waited).status).toBe(404);
  });

  it("refuses a POST body over the size cap with 413, and ends that connection", async () => {
    const token = await open();
    await post(token, handshake);
    const big = `{"type":1,"target":"record","arguments":[1]}\u001e`.repeat(2_000);
    expect((await post(token, big)).status).toBe(413);
    const afterwards = await fetch(url(token));
    expect([200, 204]).toContain(afterwards.status);
  });

  it("closes a connection whose single message is over the limit, with a Close message", async () => {
    const token = await open();
    await post(token, handshake);
    await fetch(url(token));
    await post(token, `{"type":1,"target":"echo","arguments":["${"x".repeat(2_000)}"]}\u001e`);
    expect(await (await fetch(url(token))).text()).toBe('{"type":7,"error":"Connection closed with an error.","allowReconnect":true}\u001e');
    expect((await fetch(url(token))).status).toBe(204);
  });

  it("ends the connection on DELETE (202), answering the poll in flight with 204", async () => {
    const token = await open();
    await post(token, handshake);
    await fetch(url(token));
    const waiting = fetch(url(token));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await fetch(url(token), { method: "DELETE" })).status).toBe(202);
    expect((await waiting).status).toBe(204);
    expect((await post(token, '{"type":6}\u001e')).status).toBe(404);
  });

  it("answers 404 to unknown tokens, and to every request once an ended connection is forgotten", async () => {
    expect((await fetch(url("unknown"))).status).toBe(404);
    expect((await post("unknown", handshake)).status).toBe(404);
    const token = await open();
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect((await fetch(url(token))).status).toBe(404);
  });

  it("reaps a connection that stops polling, after the disconnect timeout", async () => {
    const token = await open();
    await post(token, handshake);
    await new Promise((resolve) => setTimeout(resolve, 600));
    // Gone, as .NET removes a timed-out connection: what was queued for it is dropped.
    const late = await fetch(url(token));
    expect(late.status).toBe(404);
    expect(await late.text()).toBe("No Connection with that ID");
  });

  it("answers 400 to an event stream on a long-polling connection", async () => {
    const token = await open();
    const events = await fetch(url(token), { headers: { Accept: "text/event-stream" } });
    expect(events.status).toBe(400);
    expect(await events.text()).toBe("Cannot change transports mid-connection");
  });
});
