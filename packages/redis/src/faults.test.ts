import { RecordingConnection } from "@hubwire/server/testing";
import { RedisProcess } from "@hubwire/test-support";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { BackplaneError } from "./backplane-error.js";
import { RedisLifetimeManager } from "./redis-lifetime-manager.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function startRedis(): Promise<RedisProcess> {
  const redis = await RedisProcess.start();
  cleanups.push(() => redis.dispose());
  return redis;
}

/** A node: a manager with its own two ioredis connections and one local connection. */
async function startNode(redis: RedisProcess, prefix: string, name: string) {
  const options = { maxRetriesPerRequest: 1, retryStrategy: () => 100 };
  const publisher = new Redis(redis.port, "127.0.0.1", options);
  const subscriber = new Redis(redis.port, "127.0.0.1", options);
  for (const client of [publisher, subscriber]) client.on("error", () => undefined);
  const manager = new RedisLifetimeManager({
    hubName: "hub",
    prefix,
    publisher,
    subscriber,
    publishTimeoutMs: 300,
    heartbeatIntervalMs: 200,
    ackTimeoutMs: 500,
  });
  const connection = new RecordingConnection(name);
  await manager.onConnected(connection);
  cleanups.push(async () => {
    await manager.close();
    publisher.disconnect();
    subscriber.disconnect();
  });
  return { manager, connection, publisher, subscriber };
}

const say = (text: string) => ({ type: 1 as const, target: "say", arguments: [text] });

async function numSub(redis: RedisProcess, channel: string): Promise<number> {
  const reply = (await redis.cli("pubsub", "numsub", channel)).split("\n");
  return Number(reply[1]);
}

describe("the Redis backplane under faults", () => {
  it("starts with Redis down: serves local connections, fails remote sends loudly, recovers by itself", async () => {
    const redis = await startRedis();
    await redis.stop();
    const prefix = `down-${Math.random()}`;
    const a = await startNode(redis, prefix, "a1");
    const b = await startNode(redis, prefix, "b1");
    expect(a.manager.isHealthy).toBe(false);
    const down = await a.manager.send({ kind: "all" }, say("while down")).catch((error: unknown) => error);
    expect(down).toBeInstanceOf(BackplaneError);
    expect(down).toMatchObject({ code: "HUBWIRE_BACKPLANE_UNAVAILABLE" });
    expect(a.connection.received).toEqual(["while down"]);
    expect(a.manager.stats.publishFailures).toBeGreaterThan(0);

    const healthChanges: boolean[] = [];
    a.manager.onHealthChange((healthy) => healthChanges.push(healthy));
    await redis.restart();
    await eventually(() => a.manager.isHealthy && b.manager.isHealthy, 10_000, "both nodes healthy");
    expect(healthChanges).toContain(true);
    await eventually(async () => (await numSub(redis, a.manager.channels.all)) === 2, 5_000, "both nodes subscribed");
    await eventually(
      async () => {
        await a.manager.send({ kind: "all" }, say("after recovery")).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 50));
        return b.connection.received.includes("after recovery");
      },
      5_000,
      "delivery after recovery",
    );
  }, 30_000);

  it("loses nothing silently and duplicates nothing when Redis is killed and restarted mid-traffic", async () => {
    const redis = await startRedis();
    const prefix = `restart-${Math.random()}`;
    const a = await startNode(redis, prefix, "a1");
    const b = await startNode(redis, prefix, "b1");
    await eventually(() => a.manager.liveNodeCount === 1 && b.manager.liveNodeCount === 1, 5_000, "the nodes to see each other");

    const delivered: number[] = [];
    const failed: number[] = [];
    // Pub/sub is at most once: a PUBLISH that Redis acknowledges in the instant it is killed can
    // still miss a subscriber (its push is unflushed, or the reset discards what the subscriber
    // had not read yet). No client can detect that; the durable mode exists for it. So the
    // sender holds still across the kill itself, and everything before and after is checked.
    let holding: (() => void) | undefined;
    let held: Promise<void> | undefined;
    let parked = false;
    const sending = (async () => {
      for (let i = 1; i <= 400; i++) {
        if (held) {
          parked = true;
          await held;
          parked = false;
        }
        try {
          await a.manager.send({ kind: "all" }, say(String(i)));
          delivered.push(i);
        } catch (error) {
          expect(error).toBeInstanceOf(BackplaneError);
          failed.push(i);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await eventually(() => delivered.length > 60, 10_000, "traffic before the crash");
    held = new Promise<void>((resolve) => {
      holding = resolve;
    });
    await eventually(() => parked, 2_000, "the sender to hold");
    await eventually(() => delivered.every((i) => b.connection.received.includes(String(i))), 5_000, "what was delivered to arrive");
    await redis.kill();
    held = undefined;
    holding!();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await redis.restart();
    await sending;
    await new Promise((resolve) => setTimeout(resolve, 300));

    const received = b.connection.received.map(Number);
    expect(new Set(received).size, "duplicates on the other node").toBe(received.length);
    const silentlyLost = delivered.filter((i) => !received.includes(i));
    expect(silentlyLost, "reported delivered but never arrived").toEqual([]);
    expect(failed.length, "some sends must have been reported failed while Redis was down").toBeGreaterThan(0);
    expect(delivered.length + failed.length).toBe(400);
    // Subscriptions came back by themselves.
    expect(await numSub(redis, a.manager.channels.all)).toBe(2);
    expect(await numSub(redis, a.manager.channels.connection("b1"))).toBe(1);
  }, 30_000);

  it("loses nothing silently when Redis drops the subscribers while the publishers stay connected", async () => {
    // As Redis does to a slow subscriber (client-output-buffer-limit): the publisher is ready at
    // once, and a send to all must not count as delivered before the subscribers are back.
    const redis = await startRedis();
    const prefix = `subkill-${Math.random()}`;
    const a = await startNode(redis, prefix, "a1");
    const b = await startNode(redis, prefix, "b1");
    await eventually(() => a.manager.liveNodeCount === 1, 5_000, "a to hear b");
    await eventually(async () => (await numSub(redis, a.manager.channels.all)) === 2, 5_000, "subscriptions");

    await redis.cli("client", "kill", "type", "pubsub");
    await eventually(() => a.subscriber.status !== "ready", 2_000, "a's subscriber to notice");
    expect(a.publisher.status).toBe("ready");
    const delivered: number[] = [];
    const failed: number[] = [];
    for (let i = 1; i <= 100; i++) {
      await a.manager.send({ kind: "all" }, say(String(i))).then(
        () => delivered.push(i),
        () => failed.push(i),
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await eventually(() => delivered.every((i) => b.connection.received.includes(String(i))), 2_000, "delivered ones to arrive").catch(() => undefined);
    const received = b.connection.received.map(Number);
    expect(
      delivered.filter((i) => !received.includes(i)),
      "reported delivered but never arrived",
    ).toEqual([]);
    expect(failed.length, "sends while the subscribers were away must fail").toBeGreaterThan(0);
    expect(delivered.length, "sends after they are back must go through").toBeGreaterThan(0);
  }, 20_000);

  it("reports sends as failed while Redis is paused (SIGSTOP), and resumes after SIGCONT", async () => {
    const redis = await startRedis();
    const prefix = `pause-${Math.random()}`;
    const a = await startNode(redis, prefix, "a1");
    const b = await startNode(redis, prefix, "b1");
    await eventually(async () => (await numSub(redis, a.manager.channels.all)) === 2, 5_000, "subscriptions");
    redis.pause();
    await expect(a.manager.send({ kind: "all" }, say("paused"))).rejects.toBeInstanceOf(BackplaneError);
    await eventually(() => !a.manager.isHealthy, 3_000, "the probe to notice the pause");
    expect(a.connection.received).toContain("paused");
    redis.resume();
    await eventually(() => a.manager.isHealthy, 5_000, "health after SIGCONT");
    await a.manager.send({ kind: "all" }, say("resumed"));
    await eventually(() => b.connection.received.includes("resumed"), 3_000, "delivery after the pause");
    expect(b.connection.received.filter((text) => text === "paused").length).toBeLessThanOrEqual(1);
    expect(await numSub(redis, a.manager.channels.connection("a1"))).toBe(1);
  }, 20_000);

  it("drops a message that arrives twice (an ioredis resend), by its id", async () => {
    const redis = await startRedis();
    const prefix = `dup-${Math.random()}`;
    const a = await startNode(redis, prefix, "a1");
    const b = await startNode(redis, prefix, "b1");
    await eventually(async () => (await numSub(redis, a.manager.channels.all)) === 2, 5_000, "subscriptions");
    // Capture what a publishes and publish it again, as a resend after a reconnect would.
    const raw = new Redis(redis.port, "127.0.0.1");
    const spy = new Redis(redis.port, "127.0.0.1");
    cleanups.push(() => {
      raw.disconnect();
      spy.disconnect();
    });
    const captured: Buffer[] = [];
    await spy.subscribe(a.manager.channels.all);
    spy.on("messageBuffer", (_channel: Buffer, message: Buffer) => captured.push(message));
    await a.manager.send({ kind: "all" }, say("once"));
    await eventually(() => b.connection.received.includes("once"), 3_000, "the first delivery");
    const envelope = captured.find((message) => message.includes(Buffer.from("once")));
    await raw.publish(a.manager.channels.all, envelope!);
    await raw.publish(a.manager.channels.all, envelope!);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(b.connection.received.filter((text) => text === "once")).toHaveLength(1);
    expect(b.manager.stats.duplicatesDropped).toBeGreaterThanOrEqual(2);
  });

  it("drops garbage on its channels without harm", async () => {
    const redis = await startRedis();
    const a = await startNode(redis, `garbage-${Math.random()}`, "a1");
    await eventually(async () => (await numSub(redis, a.manager.channels.all)) === 1, 5_000, "subscription");
    await redis.cli("publish", a.manager.channels.all, "not msgpack at all");
    await eventually(() => a.manager.stats.malformedDropped > 0, 3_000, "the drop");
    await a.manager.send({ kind: "all" }, say("still fine"));
    expect(a.connection.received).toContain("still fine");
  });
});
