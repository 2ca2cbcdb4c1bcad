/**
 * Durable delivery (`delivery: "durable"`) against real redis-server processes, two nodes in this
 * process: each scenario sends numbered messages from node a to a group that node b's connection
 * is in, breaks something between them and Redis, and checks what b delivered against what a was
 * told. `DURABLE_TEST_DELIVERY=pubsub` runs the same scenarios on pub/sub, where they must fail.
 */
import { lifetimeManagerContract, RecordingConnection } from "@hubwire/server/testing";
import { RedisProcess, startTcpProxy, type TcpProxy } from "@hubwire/test-support";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { BackplaneError } from "./backplane-error.js";
import type { DeliveryLoss } from "./delivery-loss.js";
import { readerConnectionName } from "./durable-delivery.js";
import { RedisLifetimeManager } from "./redis-lifetime-manager.js";

const delivery = (process.env["DURABLE_TEST_DELIVERY"] ?? "durable") as "durable" | "pubsub";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** One line per scenario: sent / delivered / reported lost, printed at the end (docs/reliability.md quotes it). */
const summary: string[] = [];
afterAll(() => {
  if (summary.length > 0) console.log(`durable delivery (${delivery}), in-process nodes:\n${summary.join("\n")}`);
});

async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A recording connection that also records how it was closed (the server's connections have close()). */
class ClosableConnection extends RecordingConnection {
  readonly closes: Array<{ error?: string; allowReconnect?: boolean }> = [];
  close(options: { error?: string; allowReconnect?: boolean }): void {
    this.closes.push(options);
  }
}

async function startRedis(args: readonly string[] = []): Promise<RedisProcess> {
  const redis = await RedisProcess.start({ args });
  cleanups.push(() => redis.dispose());
  return redis;
}

const withAof = ["--appendonly", "yes", "--appendfsync", "always"];

/** A node: a manager with its own ioredis connections (through `port`, Redis's or a proxy's) and one connection in group "room". */
async function startNode(port: number, prefix: string, name: string, extra: { streamMaxLength?: number } = {}) {
  const options = { maxRetriesPerRequest: 1, retryStrategy: () => 100 };
  const publisher = new Redis(port, "127.0.0.1", options);
  const subscriber = new Redis(port, "127.0.0.1", options);
  for (const client of [publisher, subscriber]) client.on("error", () => undefined);
  const losses: DeliveryLoss[] = [];
  const manager = new RedisLifetimeManager({
    hubName: "hub",
    prefix,
    publisher,
    subscriber,
    publishTimeoutMs: 300,
    heartbeatIntervalMs: 200,
    ackTimeoutMs: 500,
    delivery,
    onDeliveryLoss: (loss) => losses.push(loss),
    ...extra,
  });
  const connection = new ClosableConnection(name);
  await manager.onConnected(connection);
  await manager.addToGroup(name, "room");
  cleanups.push(async () => {
    await manager.close();
    publisher.disconnect();
    subscriber.disconnect();
  });
  return { manager, connection, losses, publisher, subscriber };
}

type TestNode = Awaited<ReturnType<typeof startNode>>;

const say = (text: string) => ({ type: 1 as const, target: "say", arguments: [text] });

/** Until b hears a: its reader has found its place in the stream (or its subscriptions are in). */
async function connected(a: TestNode, b: TestNode): Promise<void> {
  let probe = 0;
  await eventually(
    async () => {
      const text = `probe-${probe++}`;
      await a.manager.send({ kind: "groups", groups: ["room"] }, say(text)).catch(() => undefined);
      await sleep(30);
      return b.connection.received.includes(text);
    },
    5_000,
    "b to hear a",
  );
}

/** Sends 1..count to the group from a, one at a time; `during(i)` runs before send i. */
async function sendNumbered(a: TestNode, count: number, during: (i: number) => Promise<void> | void = () => undefined) {
  const ok: number[] = [];
  const failed: BackplaneError[] = [];
  const failedNumbers: number[] = [];
  for (let i = 1; i <= count; i++) {
    await during(i);
    try {
      await a.manager.send({ kind: "groups", groups: ["room"] }, say(String(i)));
      ok.push(i);
    } catch (error) {
      expect(error).toBeInstanceOf(BackplaneError);
      failed.push(error as BackplaneError);
      failedNumbers.push(i);
    }
    await sleep(3);
  }
  return { ok, failed, failedNumbers };
}

/** The numbered messages b's connection received, in order. */
const numbersAt = (node: TestNode) => node.connection.received.filter((text) => /^\d+$/.test(text)).map(Number);

const isIncreasing = (numbers: readonly number[]) => numbers.every((n, i) => i === 0 || n > numbers[i - 1]!);

const reportedLost = (node: TestNode) => node.losses.reduce((sum, loss) => sum + (loss.lost ?? 0), 0);

/**
 * Drops every stream-reader connection (and every pub/sub subscriber) Redis has, as `CLIENT KILL`
 * does to a slow consumer, once `readers` of them are connected (waiting up to 5 s): a reader
 * killed by the last call may still be reconnecting, ioredis backing off.
 */
async function killReaders(redis: RedisProcess, readers: number): Promise<number> {
  const readerIds = async () =>
    (await redis.cli("client", "list"))
      .split("\n")
      .filter((line) => line.includes(`name=${readerConnectionName} `))
      .map((line) => /id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined);
  let ids = await readerIds();
  const deadline = Date.now() + 5_000;
  while (ids.length < readers && Date.now() < deadline) {
    await sleep(20);
    ids = await readerIds();
  }
  for (const id of ids) await redis.cli("client", "kill", "id", id);
  await redis.cli("client", "kill", "type", "pubsub");
  return ids.length;
}

async function proxyTo(redis: RedisProcess): Promise<TcpProxy> {
  const proxy = await startTcpProxy(redis.port);
  cleanups.push(() => proxy.close());
  return proxy;
}

lifetimeManagerContract(
  `RedisLifetimeManager, two nodes on one Redis, ${delivery} delivery`,
  async () => {
    const redis = await RedisProcess.start();
    cleanups.push(() => redis.dispose());
    const prefix = `contract-${Math.random().toString(36).slice(2)}`;
    const make = () => {
      const publisher = new Redis(redis.port, "127.0.0.1", { maxRetriesPerRequest: 1 });
      const subscriber = new Redis(redis.port, "127.0.0.1", { maxRetriesPerRequest: 1 });
      cleanups.push(() => {
        publisher.disconnect();
        subscriber.disconnect();
      });
      return new RedisLifetimeManager({ hubName: "hub", prefix, publisher, subscriber, ackTimeoutMs: 500, heartbeatIntervalMs: 200, delivery });
    };
    const nodes = [make(), make()];
    await sleep(300);
    return nodes;
  },
  () => sleep(150),
);

describe("durable delivery options", () => {
  it("refuses a mistaken option at once, before opening anything, saying the fix", () => {
    const publisher = new Redis({ lazyConnect: true });
    const subscriber = new Redis({ lazyConnect: true });
    const base = { hubName: "hub", publisher, subscriber };
    expect(() => new RedisLifetimeManager({ ...base, delivery: "streams" as "durable" })).toThrow('delivery must be "pubsub" or "durable"');
    expect(() => new RedisLifetimeManager({ ...base, delivery: "durable", streamMaxLength: 0 })).toThrow("streamMaxLength must be a positive integer");
    expect(() => new RedisLifetimeManager({ ...base, delivery: "durable", streamShards: 1.5 })).toThrow("streamShards must be a positive integer");
  });
});

describe(`durable delivery over real Redis processes (${delivery})`, () => {
  it("reads on from where it stopped when Redis drops its reader (CLIENT KILL): nothing lost, nothing twice, in order", async () => {
    const redis = await startRedis();
    const prefix = `kill-${Math.random()}`;
    const a = await startNode(redis.port, prefix, "a1");
    const b = await startNode(redis.port, prefix, "b1");
    await connected(a, b);
    let killed = 0;
    const sent = await sendNumbered(a, 300, async (i) => {
      // One reader per node (one shard) in durable delivery; none on pub/sub.
      if (i % 60 === 0) killed += await killReaders(redis, delivery === "durable" ? 2 : 0);
    });
    await eventually(() => sent.ok.every((i) => numbersAt(b).includes(i)), 5_000, "b to deliver every send").catch(() => undefined);
    const received = numbersAt(b);
    summary.push(
      `CLIENT KILL of the readers x5: sent ${sent.ok.length} ok / ${sent.failed.length} failed, delivered ${received.length}, reported lost ${reportedLost(b)}`,
    );
    expect(
      sent.ok.filter((i) => !received.includes(i)),
      "reported sent but never delivered",
    ).toEqual([]);
    expect(isIncreasing(received), "in order, once each").toBe(true);
    expect(b.losses).toEqual([]);
    if (delivery === "durable") expect(killed, "each node's reader killed at each of the 5 points").toBe(10);
  });

  it("tells a connection that arrived before its node could read the streams to come back, once they can be read", async () => {
    const redis = await startRedis();
    const prefix = `early-${Math.random().toString(36).slice(2)}`;
    const proxy = await proxyTo(redis);
    // Node b starts while Redis moves no bytes for it: its connection is registered with no position in the stream.
    proxy.setFault({ kind: "blackhole" });
    const b = await startNode(proxy.port, prefix, "b");
    const a = await startNode(redis.port, prefix, "a");
    // Stored while b could not read: b cannot know it was for its connection.
    await a.manager.send({ kind: "groups", groups: ["room"] }, say("while b could not read"));
    expect(b.connection.closes).toEqual([]);
    proxy.setFault({ kind: "pass" });
    proxy.cut();
    await eventually(() => b.connection.closes.length > 0, 5_000, "b's early connection to be told");
    expect(b.connection.closes).toEqual([{ error: expect.stringContaining("reconnect"), allowReconnect: true }]);
    // A connection that arrives once the readers have their place is not told anything.
    const later = new ClosableConnection("later");
    await b.manager.onConnected(later);
    await b.manager.addToGroup("later", "room");
    await connected(a, b);
    expect(later.closes).toEqual([]);
  });

  it("delivers what a node missed while partitioned from Redis once the partition heals, once and in order", async () => {
    const redis = await startRedis();
    const proxy = await proxyTo(redis);
    const prefix = `partition-${Math.random()}`;
    const a = await startNode(redis.port, prefix, "a1");
    const b = await startNode(proxy.port, prefix, "b1");
    await connected(a, b);
    const sent = await sendNumbered(a, 200, async (i) => {
      if (i === 50) proxy.setFault({ kind: "blackhole" });
      if (i === 150) {
        // The partition heals as a network reset (ioredis reconnects at once).
        proxy.setFault({ kind: "pass" });
        proxy.cut();
      }
    });
    await eventually(() => sent.ok.every((i) => numbersAt(b).includes(i)), 5_000, "b to catch up").catch(() => undefined);
    const received = numbersAt(b);
    summary.push(
      `node partitioned for 100 sends: sent ${sent.ok.length} ok / ${sent.failed.length} failed, delivered ${received.length}, reported lost ${reportedLost(b)}`,
    );
    expect(sent.failed).toEqual([]);
    expect(
      sent.ok.filter((i) => !received.includes(i)),
      "missed while partitioned",
    ).toEqual([]);
    expect(isIncreasing(received)).toBe(true);
    expect(b.losses).toEqual([]);
    expect(b.connection.closes).toEqual([]);
  });

  it("loses nothing across a Redis crash and restart with AOF (appendfsync always)", async () => {
    const redis = await startRedis(withAof);
    const proxy = await proxyTo(redis);
    const prefix = `aof-${Math.random()}`;
    const a = await startNode(redis.port, prefix, "a1");
    const b = await startNode(proxy.port, prefix, "b1");
    await connected(a, b);
    const sent = await sendNumbered(a, 200, async (i) => {
      // b stops reading first, so that the crash takes entries it has not read yet.
      if (i === 60) proxy.setFault({ kind: "blackhole" });
      if (i === 100) {
        await redis.kill();
        await sleep(200);
        await redis.restart();
      }
      if (i === 120) {
        proxy.setFault({ kind: "pass" });
        proxy.cut();
      }
    });
    await eventually(() => sent.ok.every((i) => numbersAt(b).includes(i)), 8_000, "b to catch up").catch(() => undefined);
    const received = numbersAt(b);
    summary.push(
      `Redis SIGKILL + restart with AOF, b behind by 40: sent ${sent.ok.length} ok / ${sent.failed.length} failed (${received.filter((i) => sent.failedNumbers.includes(i)).length} of those arrived), delivered ${received.length}, reported lost ${reportedLost(b)}`,
    );
    expect(sent.ok.filter((i) => !received.includes(i))).toEqual([]);
    expect(isIncreasing(received)).toBe(true);
    expect(b.losses).toEqual([]);
    expect(b.connection.closes).toEqual([]);
  });

  it("detects the loss when Redis restarts without persistence: reported = lost, connections closed with allowReconnect", async () => {
    const redis = await startRedis();
    const proxy = await proxyTo(redis);
    const prefix = `nopersist-${Math.random()}`;
    const a = await startNode(redis.port, prefix, "a1");
    const b = await startNode(proxy.port, prefix, "b1");
    await connected(a, b);
    const sent = await sendNumbered(a, 200, async (i) => {
      if (i === 60) proxy.setFault({ kind: "blackhole" });
      if (i === 100) {
        await redis.kill();
        await sleep(200);
        await redis.restart();
      }
      if (i === 120) {
        proxy.setFault({ kind: "pass" });
        proxy.cut();
      }
    });
    await eventually(() => numbersAt(b).includes(sent.ok[sent.ok.length - 1]!), 8_000, "b to read the last send").catch(() => undefined);
    const received = numbersAt(b);
    const lost = sent.ok.filter((i) => !received.includes(i));
    summary.push(
      `Redis SIGKILL + restart without persistence, b behind by 40: sent ${sent.ok.length} ok / ${sent.failed.length} failed, delivered ${received.length}, lost ${lost.length}, reported lost ${reportedLost(b)} (${b.losses.map((loss) => loss.reason).join(", ")})`,
    );
    expect(lost.length, "the crash must have taken sends b had not read").toBeGreaterThan(0);
    expect(b.losses.map((loss) => loss.reason)).toContain("stream-reset");
    expect(reportedLost(b), "reported lost = sends told ok that never arrived").toBe(lost.length);
    expect(b.manager.stats.messagesLost).toBe(lost.length);
    expect(b.connection.closes.length).toBeGreaterThan(0);
    expect(b.connection.closes[0]).toMatchObject({ allowReconnect: true });
    expect(isIncreasing(received)).toBe(true);
    // a's own connection missed nothing: a reads its own stream and finds no gap in others' (none sent).
    expect(a.losses.filter((loss) => loss.lost !== undefined)).toEqual([]);
  });

  it("reports the exact count when the stream is trimmed past a node that fell behind, and closes its connections", async () => {
    const redis = await startRedis(["--stream-node-max-entries", "10"]);
    const proxy = await proxyTo(redis);
    const prefix = `trim-${Math.random()}`;
    const a = await startNode(redis.port, prefix, "a1", { streamMaxLength: 20 });
    const b = await startNode(proxy.port, prefix, "b1", { streamMaxLength: 20 });
    await connected(a, b);
    const sent = await sendNumbered(a, 200, async (i) => {
      if (i === 20) proxy.setFault({ kind: "blackhole" });
      if (i === 150) {
        proxy.setFault({ kind: "pass" });
        proxy.cut();
      }
    });
    await eventually(() => numbersAt(b).includes(200), 5_000, "b to read the last send").catch(() => undefined);
    const received = numbersAt(b);
    const lost = sent.ok.filter((i) => !received.includes(i));
    summary.push(
      `stream trimmed past a node (MAXLEN ~20, 130 sends while it was away): sent ${sent.ok.length} ok, delivered ${received.length}, lost ${lost.length}, reported lost ${reportedLost(b)}`,
    );
    expect(lost.length).toBeGreaterThan(50);
    expect(reportedLost(b)).toBe(lost.length);
    expect(b.manager.stats.lossIncidents).toBe(1);
    expect(b.connection.closes).toEqual([expect.objectContaining({ allowReconnect: true })]);
    // Bounded: the stream holds about streamMaxLength entries, however many were sent.
    const length = Number(await redis.cli("xlen", `${a.manager.channels.base}:stream:{${a.manager.channels.base}#0}`));
    expect(length).toBeLessThanOrEqual(40);
  });

  it("finds a trim past its position at once, before the sender sends again; the sender's next message brings the count", async () => {
    const redis = await startRedis(["--stream-node-max-entries", "10"]);
    const proxy = await proxyTo(redis);
    const prefix = `trim-quiet-${Math.random()}`;
    const a = await startNode(redis.port, prefix, "a1", { streamMaxLength: 20 });
    const b = await startNode(proxy.port, prefix, "b1", { streamMaxLength: 20 });
    await connected(a, b);
    proxy.setFault({ kind: "blackhole" });
    const sent = await sendNumbered(a, 100);
    proxy.setFault({ kind: "pass" });
    proxy.cut();
    await eventually(() => b.losses.length > 0, 5_000, "the trim to be found");
    expect(b.losses[0]).toMatchObject({ reason: "trimmed", lost: undefined, closedConnections: 1 });
    expect(b.connection.closes).toEqual([expect.objectContaining({ allowReconnect: true })]);
    await a.manager.send({ kind: "groups", groups: ["room"] }, say("101"));
    await eventually(() => numbersAt(b).includes(101), 3_000, "the next send");
    const lost = sent.ok.filter((i) => !numbersAt(b).includes(i));
    expect(reportedLost(b)).toBe(lost.length);
    // The gap belongs to the trim already reported: the connections are not closed twice.
    expect(b.manager.stats.lossIncidents).toBe(1);
  });

  it("a send that times out (Redis paused) may still arrive; its retry carries the same id and is delivered once", async () => {
    const redis = await startRedis();
    const prefix = `pause-${Math.random()}`;
    const a = await startNode(redis.port, prefix, "a1");
    const b = await startNode(redis.port, prefix, "b1");
    await connected(a, b);
    redis.pause();
    const error = (await a.manager.send({ kind: "groups", groups: ["room"] }, say("paused")).catch((caught: unknown) => caught)) as BackplaneError;
    expect(error).toBeInstanceOf(BackplaneError);
    expect(error.mayStillArrive).toBe(true);
    expect(error.messageId).toMatch(/:/);
    expect(error.retry).toBeTypeOf("function");
    redis.resume();
    // Redis had it in its socket: it is stored when Redis resumes, and delivered.
    await eventually(() => b.connection.received.includes("paused"), 5_000, "the send that failed to arrive anyway");
    await error.retry!();
    await a.manager.send({ kind: "groups", groups: ["room"] }, say("after"));
    await eventually(() => b.connection.received.includes("after"), 3_000, "a later send");
    expect(b.connection.received.filter((text) => text === "paused")).toHaveLength(1);
    expect(b.manager.stats.duplicatesDropped).toBeGreaterThanOrEqual(1);
    expect(b.losses).toEqual([]);
  });

  it("a send that was never stored (Redis down) is delivered once by its retry, and a second retry changes nothing", async () => {
    const redis = await startRedis(withAof);
    const prefix = `down-${Math.random()}`;
    const a = await startNode(redis.port, prefix, "a1");
    const b = await startNode(redis.port, prefix, "b1");
    await connected(a, b);
    await redis.stop();
    await eventually(() => a.publisher.status !== "ready", 2_000, "a to see Redis gone");
    const error = (await a.manager.send({ kind: "groups", groups: ["room"] }, say("down")).catch((caught: unknown) => caught)) as BackplaneError;
    expect(error).toBeInstanceOf(BackplaneError);
    expect(error.mayStillArrive).toBe(false);
    await redis.restart();
    await eventually(() => a.publisher.status === "ready", 5_000, "a to reconnect");
    await error.retry!();
    await eventually(() => b.connection.received.includes("down"), 5_000, "the retry to arrive");
    await error.retry!();
    await a.manager.send({ kind: "groups", groups: ["room"] }, say("after"));
    await eventually(() => b.connection.received.includes("after"), 3_000, "a later send");
    expect(b.connection.received.filter((text) => text === "down")).toHaveLength(1);
    // Stored by its retry, the failure is no longer one: a later gap would count it.
    expect(b.losses).toEqual([]);
  });
});
