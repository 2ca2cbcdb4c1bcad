import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attack } from "./harness/attack.js";
import { HubNode } from "./harness/hub-node.js";
import { type Neighbour, openNeighbour } from "./harness/neighbour.js";
import { httpRequest, rawExchange } from "./harness/raw.js";

async function negotiate(node: HubNode): Promise<string> {
  const body = (await (await fetch(`${node.url}/negotiate?negotiateVersion=1`, { method: "POST" })).json()) as { connectionToken: string };
  return body.connectionToken;
}

/** A long-polling connection past its handshake. */
async function longPolling(node: HubNode): Promise<string> {
  const token = await negotiate(node);
  // As the clients do: the first poll (answered at once) binds the transport, then the handshake.
  await (await fetch(`${node.url}?id=${token}`)).text();
  const posted = await fetch(`${node.url}?id=${token}`, { method: "POST", body: '{"protocol":"json","version":1}\u001e' });
  if (posted.status !== 200) throw new Error(`The handshake POST answered ${posted.status}.`);
  const answer = await (await fetch(`${node.url}?id=${token}`)).text();
  if (answer !== "{}\u001e") throw new Error(`The handshake was answered ${JSON.stringify(answer)}.`);
  return token;
}

describe("hostile negotiate, long-polling and SSE requests", () => {
  let node: HubNode;
  let neighbour: Neighbour;
  beforeAll(async () => {
    node = await HubNode.start({ hubOptions: { clientTimeoutMs: 2_000, disconnectTimeoutMs: 1_000, longPollTimeoutMs: 2_000, keepAliveIntervalMs: 500 } });
    neighbour = await openNeighbour(node.url);
  });
  afterAll(async () => {
    await neighbour.stop();
    await node.stop();
  });

  it("answers wrong methods with 405", async () => {
    const get = await attack(node, neighbour, "http: GET negotiate", () => rawExchange(node.port, [httpRequest("GET", "/hub/negotiate")]));
    expect(get.status).toBe(405);
    const token = await longPolling(node);
    const put = await attack(node, neighbour, "http: PUT transport", () =>
      rawExchange(node.port, [httpRequest("PUT", `/hub?id=${token}`, { "Content-Length": 0 })]),
    );
    expect(put.status).toBe(405);
  });

  it("refuses a 10 MB long-polling POST with 413 and keeps the neighbour, even for a client slow to read it", async () => {
    const token = await longPolling(node);
    const body = "x".repeat(10 * 1024 * 1024);
    const answer = await attack(node, neighbour, "http: 10 MB POST", () =>
      rawExchange(node.port, [httpRequest("POST", `/hub?id=${token}`, { "Content-Length": body.length }), body], { timeoutMs: 10_000 }),
    );
    expect(answer.status).toBe(413);
    // The request says `Connection: close`; the client reads its answer only after the server has
    // ended the connection. The answer must still be there, not reset away with the body's rest.
    const slowReader = await longPolling(node);
    const late = await attack(node, neighbour, "http: 10 MB POST, read late", () =>
      rawExchange(node.port, [httpRequest("POST", `/hub?id=${slowReader}`, { "Content-Length": body.length }), body], {
        timeoutMs: 10_000,
        readAfterMs: 300,
      }),
    );
    expect(late.status).toBe(413);
  });

  it("ends a POST whose body never ends, and one that trickles, within the client timeout", async () => {
    for (const [name, trickle] of [
      ["never-ending body", false],
      ["slow body", true],
    ] as const) {
      const token = await longPolling(node);
      const started = Date.now();
      const answer = await attack(
        node,
        neighbour,
        `http: ${name}`,
        () =>
          new Promise<{ status: number | undefined }>((resolve) => {
            const socket = connect(node.port, "127.0.0.1");
            let text = "";
            const timer = trickle ? setInterval(() => socket.write("a"), 200) : undefined;
            socket.on("data", (chunk) => (text += chunk.toString()));
            socket.on("close", () => {
              clearInterval(timer);
              resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]) || undefined });
            });
            setTimeout(() => socket.destroy(), 20_000).unref();
            socket.on("error", () => undefined);
            socket.write(httpRequest("POST", `/hub?id=${token}`, { "Content-Length": 1_000_000 }));
          }),
      );
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(answer.status).toBe(408);
    }
  });

  it("reaps 5,000 negotiated connections that never connect, after the disconnect timeout", async () => {
    const tokens = await attack(node, neighbour, "http: 5,000 unused negotiates", async () => {
      const made: string[] = [];
      for (let batch = 0; batch < 50; batch++) made.push(...(await Promise.all(Array.from({ length: 100 }, () => negotiate(node)))));
      return made;
    });
    expect(new Set(tokens).size).toBe(5_000);
    // Reaped: past the disconnect timeout (1 s) a token that was never used is unknown. Asked once
    // each, since a GET on a live token would start long polling and keep it alive.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    for (const token of [tokens[0], tokens[2_500], tokens.at(-1)]) expect((await fetch(`${node.url}?id=${token}`)).status).toBe(404);
  });

  it("treats transport=__proto__ and other odd query values as plain strings", async () => {
    for (const path of [
      "/hub/negotiate?negotiateVersion=__proto__",
      "/hub?transport=__proto__&id=__proto__",
      "/hub?id=constructor",
      "/hub/negotiate?negotiateVersion=1&useStatefulReconnect=__proto__",
    ]) {
      const method = path.includes("negotiate") ? "POST" : "GET";
      const answer = await attack(node, neighbour, `http: ${path}`, () => rawExchange(node.port, [httpRequest(method, path, { "Content-Length": 0 })]));
      expect(answer.status).toBeLessThan(500);
    }
  });

  it("ends an older poll with 204 when polls overlap, and accepts overlapping POSTs in order", async () => {
    const token = await longPolling(node);
    const url = `${node.url}?id=${token}`;
    const older = fetch(url);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const newer = fetch(url);
    expect((await attack(node, neighbour, "http: overlapping polls", () => older)).status).toBe(204);
    const posts = await Promise.all(
      Array.from({ length: 5 }, (_, index) =>
        fetch(url, { method: "POST", body: `{"type":1,"invocationId":"${index}","target":"echo","arguments":[${index}]}\u001e` }),
      ),
    );
    // POSTs on one connection are read one after another, in the order they came.
    expect(posts.map((post) => post.status)).toEqual([200, 200, 200, 200, 200]);
    const text = await (await newer).text();
    expect(text.length).toBeGreaterThan(0);
    await fetch(url, { method: "DELETE" });
  });

  it("survives an SSE request that is dropped at once, and one with a bogus Accept", async () => {
    const token = await negotiate(node);
    await attack(node, neighbour, "sse: dropped at once", async () => {
      const socket = connect(node.port, "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.write(httpRequest("GET", `/hub?id=${token}`, { Accept: "text/event-stream" }));
      socket.resetAndDestroy();
    });
    const other = await negotiate(node);
    const answer = await attack(node, neighbour, "sse: bogus Accept", () =>
      rawExchange(node.port, [httpRequest("GET", `/hub?id=${other}`, { Accept: "text/event-stream;;;\u0000" })], { timeoutMs: 1_000 }),
    );
    expect(answer.status === undefined || answer.status < 500).toBe(true);
  });
});
