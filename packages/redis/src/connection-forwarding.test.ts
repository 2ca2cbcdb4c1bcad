import type { HubServer } from "@hubwire/server";
import { RedisProcess } from "@hubwire/test-support";
import * as signalR from "@microsoft/signalr";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUp, cleanups, eventually, notes, roundRobin, threeNodes } from "./test-helpers/routed-nodes.js";

afterEach(cleanUp);

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
