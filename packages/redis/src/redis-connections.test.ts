import { RecordingConnection } from "@hubwire/server/testing";
import { RedisProcess } from "@hubwire/test-support";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { type RedisLifetimeManager, redisLifetimeManager } from "./redis-lifetime-manager.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function eventually(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const say = (text: string) => ({ type: 1 as const, target: "say", arguments: [text] });

/** Connections Redis has open now, not counting the one that asks. */
async function clientCount(redis: RedisProcess): Promise<number> {
  return (await redis.cli("client", "list")).split("\n").filter(Boolean).length - 1;
}

describe("the backplane's connections, per server", () => {
  it("keeps hubs that share a server's clients apart: a send on one hub never reaches another's connections", async () => {
    const redis = await RedisProcess.start();
    cleanups.push(() => redis.dispose());
    const prefix = `apart-${Math.random()}`;
    const node = async (name: string) => {
      const publisher = new Redis(redis.port, "127.0.0.1");
      const subscriber = new Redis(redis.port, "127.0.0.1");
      const managers = redisLifetimeManager({ publisher, subscriber, prefix, heartbeatIntervalMs: 100 });
      const chat = managers("chat");
      const admin = managers("admin");
      const onChat = new RecordingConnection(`${name}-chat`);
      const onAdmin = new RecordingConnection(`${name}-admin`);
      await chat.onConnected(onChat);
      await admin.onConnected(onAdmin);
      cleanups.push(async () => {
        await chat.close();
        await admin.close();
        publisher.disconnect();
        subscriber.disconnect();
      });
      return { chat, admin, onChat, onAdmin };
    };
    const a = await node("a");
    const b = await node("b");
    await eventually(() => a.chat.liveNodeCount === 1 && a.admin.liveNodeCount === 1, "the nodes to hear each other on both hubs");
    await a.chat.send({ kind: "all" }, say("for chat"));
    await a.admin.send({ kind: "all" }, say("for admin"));
    await eventually(() => b.onChat.received.length === 1 && b.onAdmin.received.length === 1, "one message each on the other node");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(b.onChat.received).toEqual(["for chat"]);
    expect(b.onAdmin.received).toEqual(["for admin"]);
  });

  it("opens one pair of connections for every hub of a server given a URL, and closes them with the last hub", async () => {
    const redis = await RedisProcess.start();
    cleanups.push(() => redis.dispose());
    const managers = redisLifetimeManager({ redis: redis.url, prefix: `pair-${Math.random()}` });
    const hubs: RedisLifetimeManager[] = ["chat", "admin", "news"].map((name) => managers(name));
    cleanups.push(() => Promise.all(hubs.map((hub) => hub.close())));
    await eventually(() => hubs.every((hub) => hub.isHealthy), "the hubs to be healthy");
    expect(await clientCount(redis)).toBe(2);
    await hubs[0]!.close();
    await hubs[1]!.close();
    expect(await clientCount(redis)).toBe(2);
    await hubs[2]!.close();
    await eventually(async () => (await clientCount(redis)) === 0, "the pair to close with the last hub");
    // A hub made after that opens a new pair.
    const later = managers("later");
    cleanups.push(() => later.close());
    await eventually(() => later.isHealthy, "the new hub to be healthy");
    expect(await clientCount(redis)).toBe(2);
  });

  it("refuses two hubs of one name on one pair of connections, which would read each other's messages", () => {
    const publisher = new Redis({ lazyConnect: true });
    const subscriber = new Redis({ lazyConnect: true });
    const managers = redisLifetimeManager({ publisher, subscriber, prefix: "same" });
    const first = managers("chat");
    cleanups.push(() => first.close());
    expect(() => managers("chat")).toThrow(/Two hubs named 'same:chat' share one Redis backplane/);
  });
});
