import { PresenceMap, silentLogger } from "@hubwire/server";
import { RecordingConnection } from "@hubwire/server/testing";
import { RedisProcess } from "@hubwire/test-support";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { EnvelopeKind, type EnvelopeOf } from "./envelope.js";
import { PresenceReplication } from "./presence-replication.js";
import { RedisLifetimeManager } from "./redis-lifetime-manager.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function eventually(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type Delta = EnvelopeOf<typeof EnvelopeKind.PresenceDelta>;

/** Two replications wired by hand: what one publishes, the test hands (or withholds) to the other. */
function pair() {
  const live = new Set<string>(["a", "b"]);
  const make = (serverId: string) => {
    const sent = { deltas: [] as Delta[], asked: [] as string[], snapshots: [] as Array<[string, EnvelopeOf<typeof EnvelopeKind.PresenceSnapshot>]> };
    const map = new PresenceMap(serverId);
    const replication = new PresenceReplication({
      serverId,
      map,
      publishDelta: async (delta) => void sent.deltas.push(delta),
      requestSnapshot: async (from) => void sent.asked.push(from),
      sendSnapshot: async (to, snapshot) => void sent.snapshots.push([to, snapshot]),
      liveNodeIds: () => [...live].filter((id) => id !== serverId),
      heartbeatIntervalMs: 60_000,
      logger: silentLogger,
    });
    cleanups.push(() => replication.close());
    return { map, replication, sent };
  };
  return { a: make("a"), b: make("b"), live };
}

describe("PresenceReplication", () => {
  it("sends a turn's changes as one numbered delta, which the other node applies", () => {
    const { a, b } = pair();
    a.replication.connected("c1", "ada");
    a.replication.joined("c1", "lobby");
    a.replication.connected("c2", null);
    a.replication.flush();
    expect(a.sent.deltas).toHaveLength(1);
    expect(a.sent.deltas[0]).toMatchObject({ serverId: "a", seq: 1 });
    b.replication.delta(a.sent.deltas[0]!);
    expect(b.map.groupMembers("lobby")).toEqual([{ connectionId: "c1", userId: "ada" }]);
    expect(b.map.isOnline("ada")).toBe(true);
    expect(a.replication.seq).toBe(1);
  });

  it("asks for a snapshot after a gap or a heartbeat ahead of it, and replaces what it knew with it", () => {
    const { a, b } = pair();
    a.replication.connected("c1", "ada");
    a.replication.flush();
    a.replication.connected("c2", "bob");
    a.replication.flush();
    a.replication.disconnected("c1");
    a.replication.flush();
    // b got delta 1, lost delta 2, then sees 3: a gap.
    b.replication.delta(a.sent.deltas[0]!);
    b.replication.delta(a.sent.deltas[2]!);
    expect(b.map.isOnline("ada")).toBe(true); // delta 3 was not applied out of order
    expect(b.sent.asked).toEqual(["a"]);
    a.replication.syncRequested({ kind: EnvelopeKind.PresenceSyncRequest, serverId: "b" });
    const [to, snapshot] = a.sent.snapshots[0]!;
    expect(to).toBe("b");
    b.replication.snapshot(snapshot);
    expect(b.map.users()).toEqual(["bob"]);
    // Later deltas apply on top of the snapshot's number.
    a.replication.connected("c3", "cyd");
    a.replication.flush();
    b.replication.delta(a.sent.deltas.at(-1)!);
    expect(b.map.users().sort()).toEqual(["bob", "cyd"]);
    // A heartbeat naming a delta b never got (the last one was lost) makes it ask again, once per interval.
    a.replication.connected("c4", "dan");
    a.replication.flush();
    b.replication.heartbeat("a", a.replication.seq);
    b.replication.heartbeat("a", a.replication.seq);
    expect(b.sent.asked).toEqual(["a", "a"]);
  });

  it("flushes its pending changes before a snapshot, so the snapshot's number covers them", () => {
    const { a } = pair();
    a.replication.connected("c1", "ada");
    a.replication.syncRequested({ kind: EnvelopeKind.PresenceSyncRequest, serverId: "b" });
    expect(a.sent.deltas.map((delta) => delta.seq)).toEqual([1]);
    expect(a.sent.snapshots[0]![1]).toMatchObject({ seq: 1, records: [["c1", "ada", []]] });
  });

  it("drops a node whose liveness ran out, and its users go offline", () => {
    const { a, b, live } = pair();
    a.replication.connected("c1", "ada");
    a.replication.flush();
    b.replication.delta(a.sent.deltas[0]!);
    const offline: string[] = [];
    b.map.onUserOffline(({ userId, local }) => offline.push(`${userId}${local ? " local" : ""}`));
    b.replication.sweep();
    expect(offline).toEqual([]);
    live.delete("a");
    b.replication.sweep();
    expect(offline).toEqual(["ada"]);
  });
});

describe("presence across nodes over Redis", () => {
  async function node(redis: RedisProcess, prefix: string) {
    const options = { maxRetriesPerRequest: 1, retryStrategy: () => 100 };
    const publisher = new Redis(redis.port, "127.0.0.1", options);
    const subscriber = new Redis(redis.port, "127.0.0.1", options);
    for (const client of [publisher, subscriber]) client.on("error", () => undefined);
    const manager = new RedisLifetimeManager({ hubName: "chat", prefix, publisher, subscriber, heartbeatIntervalMs: 100, publishTimeoutMs: 300 });
    const events: string[] = [];
    manager.presence.onUserOnline(({ userId, local }) => events.push(`+${userId}${local ? " local" : ""}`));
    manager.presence.onUserOffline(({ userId, local }) => events.push(`-${userId}${local ? " local" : ""}`));
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await manager.close();
      publisher.disconnect();
      subscriber.disconnect();
    };
    cleanups.push(close);
    return { manager, events, publisher, subscriber, close };
  }

  it("knows every node's users, connections and groups, with events on every node", async () => {
    const redis = await RedisProcess.start();
    cleanups.push(() => redis.dispose());
    const prefix = `presence-${Math.random()}`;
    const a = await node(redis, prefix);
    const b = await node(redis, prefix);
    await eventually(() => a.manager.liveNodeCount === 1 && b.manager.liveNodeCount === 1, "the nodes to hear each other");
    const ada1 = new RecordingConnection("ada-1", "ada");
    const ada2 = new RecordingConnection("ada-2", "ada");
    const bob = new RecordingConnection("bob-1", "bob");
    await a.manager.onConnected(ada1);
    await eventually(() => b.manager.presence.isOnline("ada"), "b to hear of ada first");
    await b.manager.onConnected(ada2);
    await b.manager.onConnected(bob);
    await a.manager.addToGroup("ada-1", "lobby");
    await b.manager.addToGroup("bob-1", "lobby");
    for (const { manager } of [a, b]) {
      await eventually(() => manager.presence.groupCount("lobby") === 2, "the group on both nodes");
      expect(manager.presence.users().sort()).toEqual(["ada", "bob"]);
      expect(manager.presence.connectionsOf("ada").sort()).toEqual(["ada-1", "ada-2"]);
      expect(manager.presence.groupUsers("lobby").sort()).toEqual(["ada", "bob"]);
    }
    expect(a.events).toEqual(["+ada local", "+bob"]);
    expect(b.events).toEqual(["+ada", "+bob local"]);

    await a.manager.onDisconnected(ada1);
    await eventually(() => b.manager.presence.connectionsOf("ada").length === 1, "ada's connection on a to leave b's copy");
    expect(b.manager.presence.isOnline("ada")).toBe(true);
    expect(b.manager.presence.groupCount("lobby")).toBe(1);
    await b.manager.onDisconnected(ada2);
    await eventually(() => !a.manager.presence.isOnline("ada"), "ada to go offline on a");
    expect(a.events).toEqual(["+ada local", "+bob", "-ada"]);
    expect(b.events).toEqual(["+ada", "+bob local", "-ada local"]);
  });

  it("catches up with a snapshot when it starts late or misses deltas", async () => {
    const redis = await RedisProcess.start();
    cleanups.push(() => redis.dispose());
    const prefix = `presence-sync-${Math.random()}`;
    const a = await node(redis, prefix);
    await a.manager.onConnected(new RecordingConnection("ada-1", "ada"));
    await a.manager.addToGroup("ada-1", "lobby");
    // b starts after a's deltas went out: a's heartbeat tells it there is something to fetch.
    const b = await node(redis, prefix);
    await eventually(() => b.manager.presence.groupUsers("lobby").includes("ada"), "b to learn of ada from a snapshot");

    // b's subscriber is away while a's deltas go out: they are lost to it for certain.
    b.subscriber.disconnect();
    await eventually(() => b.subscriber.status === "end", "b's subscriber to be gone");
    await a.manager.onConnected(new RecordingConnection("bob-1", "bob"));
    await a.manager.addToGroup("bob-1", "lobby");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(b.manager.presence.isOnline("bob")).toBe(false);
    await b.subscriber.connect();
    await eventually(() => b.manager.presence.groupUsers("lobby").includes("bob"), "b to catch up from a's heartbeat and a snapshot");
    expect(b.manager.presence.users().sort()).toEqual(["ada", "bob"]);
  });

  it("drops a node that stops answering within its liveness bound, and its users go offline", async () => {
    const redis = await RedisProcess.start();
    cleanups.push(() => redis.dispose());
    const prefix = `presence-dead-${Math.random()}`;
    const a = await node(redis, prefix);
    const b = await node(redis, prefix);
    await b.manager.onConnected(new RecordingConnection("bob-1", "bob"));
    await eventually(() => a.manager.presence.isOnline("bob"), "bob on a");
    // b dies without a word: its connections to Redis go, nothing is sent.
    b.publisher.disconnect();
    b.subscriber.disconnect();
    // The bound: liveness runs out after three heartbeat intervals, checked every interval (400 ms
    // here); the wait allows five times that for a loaded machine.
    await eventually(() => !a.manager.presence.isOnline("bob"), "bob to go offline on a", 2_000);
    expect(a.events).toEqual(["+bob", "-bob"]);
  });
});
