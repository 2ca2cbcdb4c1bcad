import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { createHubServer, defineHub, type HubContract, type HubDefinition, HubError, type HubServer, silentLogger } from "@hubwire/server";
import { RedisProcess } from "@hubwire/test-support";
import * as signalR from "@microsoft/signalr";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { redisLifetimeManager } from "./redis-lifetime-manager.js";

interface Contract extends HubContract {
  server: {
    add(a: number, b: number): number;
    fail(): void;
    join(group: string): void;
    say(group: string, text: string): void;
    count(to: number): AsyncIterable<number>;
    whereAmI(): string;
    note(text: string): void;
  };
  client: { receive(text: string): void };
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  notes.length = 0;
});

async function eventually(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What the in-process nodes' `note` method was called with, in order. */
const notes: string[] = [];

interface NodeOptions {
  /** A Redis of the test's own (default the machine's). */
  readonly redisPort?: number;
  /** Clients that never reconnect, so that killing them takes the node off the backplane for good. */
  readonly mortal?: boolean;
}

/** A hub node on its own port, over the shared Redis, named so that a call can tell where it ran. */
async function startNode(
  name: string,
  prefix: string,
  options: NodeOptions = {},
): Promise<{ hubs: HubServer; hub: HubDefinition<Contract>; port: number; name: string; clients: Redis[] }> {
  const hub = defineHub<Contract>({
    methods: {
      add: (_ctx, a, b) => a + b,
      fail: () => {
        throw new HubError("refused here");
      },
      join: (ctx, group) => ctx.groups.add(ctx.connectionId, group),
      say: (ctx, group, text) => ctx.clients.group(group).receive(text),
      count: async function* (_ctx, to) {
        for (let i = 1; i <= to; i++) yield i;
      },
      whereAmI: () => name,
      note: (_ctx, text) => {
        notes.push(`${name} ${text}`);
      },
    },
  });
  const redisOptions = {
    port: options.redisPort ?? 6379,
    host: "127.0.0.1",
    connectionName: `node-${name}`,
    ...(options.mortal ? { retryStrategy: () => null } : {}),
  };
  const clients = [new Redis(redisOptions), new Redis(redisOptions)];
  for (const client of clients) client.on("error", () => undefined);
  const hubs = createHubServer({
    hubs: { "/hub": hub },
    logger: silentLogger,
    lifetimeManager: redisLifetimeManager({ publisher: clients[0]!, subscriber: clients[1]!, prefix, heartbeatIntervalMs: 100, publishTimeoutMs: 500 }),
  });
  const server: Server = createServer((_request, response) => response.writeHead(404).end());
  hubs.attach(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    await hubs.close({ drainTimeoutMs: 0 });
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    for (const client of clients) client.disconnect();
  });
  return { hubs, hub, port: (server.address() as AddressInfo).port, name, clients };
}

/**
 * A load balancer with no affinity: each request, and each WebSocket, goes to the next node in
 * turn. `served` says which node each request went to.
 */
async function roundRobin(ports: readonly number[]): Promise<{ url: string; served: string[] }> {
  let next = 0;
  const served: string[] = [];
  const pick = (what: string) => {
    const port = ports[next++ % ports.length]!;
    served.push(`${what} ${ports.indexOf(port)}`);
    return port;
  };
  const server = createServer((incoming, outgoing) => {
    const port = pick(`${incoming.method} ${incoming.url?.split("?")[0]}`);
    const forward = httpRequest({ host: "127.0.0.1", port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (response) => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    });
    forward.on("error", () => outgoing.destroy());
    outgoing.on("close", () => forward.destroy());
    incoming.pipe(forward);
  });
  server.on("upgrade", (request, socket, head) => {
    const port = pick("upgrade");
    const upstream = connect(port, "127.0.0.1", () => {
      const lines = [`${request.method} ${request.url} HTTP/1.1`];
      for (let i = 0; i < request.rawHeaders.length; i += 2) lines.push(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, served };
}

async function threeNodes(options: NodeOptions = {}) {
  const prefix = `forwarding-${Math.random()}`;
  const nodes = [await startNode("a", prefix, options), await startNode("b", prefix, options), await startNode("c", prefix, options)];
  // Each node must know the others are alive (their heartbeats) before a locate asks them.
  for (const node of nodes) {
    let seen = 0;
    for (const deadline = Date.now() + 5_000; seen < 3 && Date.now() < deadline; ) {
      seen = (await node.hubs.inspect(node.hub).nodes()).nodes.length;
      if (seen < 3) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(seen, "nodes each node knows").toBe(3);
  }
  return nodes;
}

const transports = [
  ["LongPolling", signalR.HttpTransportType.LongPolling],
  ["ServerSentEvents", signalR.HttpTransportType.ServerSentEvents],
  ["WebSockets (negotiated)", signalR.HttpTransportType.WebSockets],
] as const;

describe("any node serves any request, behind a balancer with no affinity", () => {
  for (const [name, transport] of transports) {
    it(`runs calls, errors, groups and streams over ${name} with every request on the next node`, async () => {
      const nodes = await threeNodes();
      const balancer = await roundRobin(nodes.map((node) => node.port));
      const open = async () => {
        const connection = new signalR.HubConnectionBuilder().withUrl(`${balancer.url}/hub`, { transport }).configureLogging(signalR.LogLevel.None).build();
        cleanups.push(() => connection.stop());
        await connection.start();
        return connection;
      };
      const first = await open();
      const second = await open();
      const received: string[] = [];
      first.on("receive", (text: string) => received.push(`first ${text}`));
      second.on("receive", (text: string) => received.push(`second ${text}`));
      expect(await first.invoke("add", 2, 3)).toBe(5);
      await expect(first.invoke("fail")).rejects.toThrow("HubException: refused here");
      await first.invoke("join", "room");
      await second.invoke("join", "room");
      for (let i = 0; i < 20; i++) await first.invoke("say", "room", String(i));
      const items: number[] = [];
      await new Promise<void>((resolve, reject) =>
        first.stream("count", 5).subscribe({ next: (item: number) => items.push(item), complete: resolve, error: reject }),
      );
      expect(items).toEqual([1, 2, 3, 4, 5]);
      await eventually(() => received.length === 40, "both clients to get all twenty messages");
      const numbered = (who: string) => received.filter((line) => line.startsWith(who)).map((line) => line.split(" ")[1]);
      expect(numbered("first")).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
      expect(numbered("second")).toEqual(numbered("first"));
      // The negotiate and the transport requests of one connection landed on different nodes.
      expect(new Set(balancer.served.map((line) => line.split(" ").at(-1))).size).toBe(3);
      await first.stop();
      await second.stop();
    }, 30_000);
  }

  it("answers 404 for a token no node holds, without waiting out a timeout", async () => {
    const nodes = await threeNodes();
    const started = Date.now();
    const response = await fetch(`http://127.0.0.1:${nodes[0]!.port}/hub?id=not-a-token`);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe("No Connection with that ID");
    // Every live node answered "not here": no locate timeout (2 s) was waited.
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});

describe("routing under bad input and faults", () => {
  const url = (node: { port: number }, query = "") => `http://127.0.0.1:${node.port}/hub${query}`;
  /** Negotiates on `node`: the token of a connection with no transport yet. */
  async function negotiate(node: { port: number }): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${node.port}/hub/negotiate?negotiateVersion=1`, { method: "POST" });
    return ((await response.json()) as { connectionToken: string }).connectionToken;
  }
  const handshake = '{"protocol":"json","version":1}\u001e';
  const call = (text: string) => `{"type":1,"target":"note","arguments":["${text}"]}\u001e`;
  const held = (nodes: ReadonlyArray<{ hubs: HubServer }>) => nodes.map((node) => node.hubs.connectionCount("/hub"));

  it("lets exactly one of two nodes claim a connection both were asked to start at once", async () => {
    const [a, b, c] = await threeNodes();
    for (let round = 0; round < 5; round++) {
      const token = await negotiate(a!);
      expect(held([a!, b!, c!])).toEqual([1, 0, 0]);
      const polls = Promise.all([fetch(url(b!, `?id=${token}`)), fetch(url(c!, `?id=${token}`))]);
      await eventually(() => held([a!])[0] === 0, "a to release it");
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(held([a!, b!, c!]).sort(), "the connection exists on exactly one node").toEqual([0, 0, 1]);
      // The DELETE (forwarded from a) ends the connection and its waiting poll.
      expect((await fetch(url(a!, `?id=${token}`), { method: "DELETE" })).status).toBe(202);
      // Neither poll was refused: one started the connection, the other was forwarded to it.
      for (const poll of await polls) expect([200, 204]).toContain(poll.status);
    }
  });

  it("runs a forwarded POST once, even when its envelope is replayed on the holder's channel", async () => {
    const [a, b, c] = await threeNodes();
    const token = await negotiate(a!);
    expect((await fetch(url(b!, `?id=${token}`))).status).toBe(200); // b claims it
    const spy = new Redis(6379, "127.0.0.1");
    const captured: Array<[string, Buffer]> = [];
    cleanups.push(() => spy.disconnect());
    await spy.psubscribe("*:internal:server:*");
    spy.on("pmessageBuffer", (_pattern: Buffer, channel: Buffer, message: Buffer) => captured.push([channel.toString(), message]));
    expect((await fetch(url(c!, `?id=${token}`), { method: "POST", body: handshake })).status).toBe(200);
    expect((await fetch(url(c!, `?id=${token}`), { method: "POST", body: call("once") })).status).toBe(200);
    await eventually(() => notes.length === 1, "the call to run");
    const publisher = new Redis(6379, "127.0.0.1");
    cleanups.push(() => publisher.disconnect());
    // Replay everything sent to the nodes' own channels (the forwards among it), twice.
    for (const [channel, message] of [...captured, ...captured]) await publisher.publish(channel, message);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(notes).toEqual(["b once"]);
  });

  it("refuses with 413 a POST body over the frame limit on the node that would forward it, and forwards none of it", async () => {
    const [a, b, c] = await threeNodes();
    const token = await negotiate(a!);
    expect((await fetch(url(b!, `?id=${token}`))).status).toBe(200); // b claims it
    expect((await fetch(url(c!, `?id=${token}`), { method: "POST", body: handshake })).status).toBe(200);
    const oversized = await fetch(url(c!, `?id=${token}`), { method: "POST", body: call("x".repeat(2 * 1024 * 1024)) });
    expect(oversized.status).toBe(413);
    expect(await oversized.text()).toMatch(/^The request body is over the limit of \d+ bytes\.$/);
    // Nothing of it ran, and the connection reads on: the next POST, forwarded the same way, runs.
    expect((await fetch(url(c!, `?id=${token}`), { method: "POST", body: call("after") })).status).toBe(200);
    await eventually(() => notes.length === 1, "the next call to run");
    expect(notes).toEqual(["b after"]);
  });

  it("answers 503 and runs nothing when Redis is gone before a request can be forwarded", async () => {
    const redis = await RedisProcess.start();
    cleanups.push(() => redis.dispose());
    const [a, b, c] = await threeNodes({ redisPort: redis.port });
    const token = await negotiate(a!);
    expect((await fetch(url(b!, `?id=${token}`))).status).toBe(200);
    expect((await fetch(url(c!, `?id=${token}`), { method: "POST", body: handshake })).status).toBe(200);
    await redis.kill();
    const refused = await fetch(url(a!, `?id=${token}`), { method: "POST", body: call("lost") });
    expect(refused.status).toBe(503);
    await redis.restart();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(notes).toEqual([]);
  });

  it("answers 503 at once, not at its deadline, when Redis goes away while a forward waits for its answer", async () => {
    const redis = await RedisProcess.start();
    cleanups.push(() => redis.dispose());
    const [a, b, c] = await threeNodes({ redisPort: redis.port });
    const token = await negotiate(a!);
    expect((await fetch(url(b!, `?id=${token}`))).status).toBe(200); // b claims it; its next poll waits there
    expect((await fetch(url(b!, `?id=${token}`), { method: "POST", body: handshake })).status).toBe(200);
    await fetch(url(b!, `?id=${token}`)); // the handshake's answer
    const started = Date.now();
    const poll = fetch(url(c!, `?id=${token}`)); // forwarded to b, where it waits for messages
    await new Promise((resolve) => setTimeout(resolve, 200));
    await redis.kill();
    const answer = await poll;
    expect(answer.status).toBe(503);
    expect(Date.now() - started, "long before the forward's deadline (130 s) or the poll's (90 s)").toBeLessThan(10_000);
  });

  it("answers 404 on the others once the node holding a connection has died, within its liveness bound", async () => {
    const [a, b, c] = await threeNodes({ mortal: true });
    const token = await negotiate(a!);
    expect((await fetch(url(b!, `?id=${token}`))).status).toBe(200); // b holds it
    expect((await fetch(url(c!, `?id=${token}`), { method: "POST", body: handshake })).status).toBe(200);
    // b leaves the backplane without a word (its Redis connections killed, never to return).
    const clients = (await new Redis(6379, "127.0.0.1").client("LIST")) as string;
    const ids = clients
      .split("\n")
      .filter((line) => line.includes("name=node-b"))
      .map((line) => /id=(\d+)/.exec(line)![1]!);
    const killer = new Redis(6379, "127.0.0.1");
    cleanups.push(() => killer.disconnect());
    for (const id of ids) await killer.client("KILL", "ID", id);
    // Three heartbeat intervals (300 ms here) and a check; the wait allows five times that.
    let status = 0;
    for (const deadline = Date.now() + 2_000; status !== 404 && Date.now() < deadline; ) {
      status = (await fetch(url(c!, `?id=${token}`), { method: "POST", body: call("after") })).status;
      if (status !== 404) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(404);
  });
});
