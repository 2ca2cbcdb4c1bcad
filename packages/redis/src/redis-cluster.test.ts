import { lifetimeManagerContract } from "@hubwire/server/testing";
import { RedisCluster } from "@hubwire/test-support";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisLifetimeManager } from "./redis-lifetime-manager.js";

let cluster: RedisCluster;
const clients: Cluster[] = [];
beforeAll(async () => {
  cluster = await RedisCluster.start(3);
}, 60_000);
afterAll(async () => {
  await Promise.all(clients.splice(0).map((client) => client.quit().catch(() => client.disconnect())));
  await cluster.dispose();
});

async function clusterClient(): Promise<Cluster> {
  const client = new Cluster(cluster.startupNodes, { shardedSubscribers: true, redisOptions: { maxRetriesPerRequest: 1 } });
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once("ready", () => resolve());
    client.once("error", reject);
  });
  return client;
}

async function node(prefix: string): Promise<RedisLifetimeManager> {
  const client = await clusterClient();
  return new RedisLifetimeManager({ hubName: "hub", prefix, publisher: client, subscriber: client, sharded: true, ackTimeoutMs: 1_000 });
}

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 250));

/** A node with durable delivery over three stream shards (and sharded pub/sub for the rest). */
async function durableNode(prefix: string): Promise<RedisLifetimeManager> {
  const client = await clusterClient();
  return new RedisLifetimeManager({
    hubName: "hub",
    prefix,
    publisher: client,
    subscriber: client,
    sharded: true,
    ackTimeoutMs: 1_000,
    heartbeatIntervalMs: 250,
    delivery: "durable",
    streamShards: 3,
  });
}

lifetimeManagerContract(
  "RedisLifetimeManager, three nodes on a 3-master Redis Cluster with sharded pub/sub",
  async () => {
    const prefix = `cluster-${Math.random().toString(36).slice(2)}`;
    const nodes = await Promise.all([node(prefix), node(prefix), node(prefix)]);
    await settle();
    return nodes;
  },
  settle,
);

lifetimeManagerContract(
  "RedisLifetimeManager, three nodes on a 3-master Redis Cluster with durable delivery over three stream shards",
  async () => {
    const prefix = `cluster-durable-${Math.random().toString(36).slice(2)}`;
    const nodes = await Promise.all([durableNode(prefix), durableNode(prefix), durableNode(prefix)]);
    // Each node's readers find their place in the streams.
    await new Promise<void>((resolve) => setTimeout(resolve, 600));
    return nodes;
  },
  settle,
);

describe("durable delivery on Redis Cluster", () => {
  it("puts a hub's stream shards on different masters, each stream's epoch key in its slot", async () => {
    const manager = await durableNode(`spread-durable-${Math.random().toString(36).slice(2)}`);
    const base = manager.channels.base;
    /** The master that serves a key (the others answer MOVED). */
    const owner = async (key: string) => {
      for (const [index, redis] of cluster.nodes.entries()) if (!(await redis.cli("exists", key)).startsWith("MOVED")) return index;
      return -1;
    };
    // The readers created each shard's epoch key, beside its stream.
    await new Promise<void>((resolve) => setTimeout(resolve, 500));
    const owners = [];
    for (let shard = 0; shard < 3; shard++) {
      const stream = `${base}:stream:{${base}#${shard}}`;
      const epoch = `${base}:stream-epoch:{${base}#${shard}}`;
      expect(await owner(stream)).toBe(await owner(epoch));
      expect(Number(await cluster.nodes[await owner(epoch)]!.cli("exists", epoch))).toBe(1);
      owners.push(await owner(stream));
    }
    expect(new Set(owners).size).toBeGreaterThan(1);
    await manager.close();
  });
});

describe("sharded pub/sub on Redis Cluster", () => {
  it("spreads a hub's channels over the masters (SSUBSCRIBE, not broadcast PUBLISH)", async () => {
    const manager = await node(`spread-${Math.random().toString(36).slice(2)}`);
    const connections = Array.from({ length: 12 }, (_, i) => ({
      connectionId: `c${i}`,
      userId: undefined,
      write: () => undefined,
      invokeClient: async () => undefined,
    }));
    for (const connection of connections) {
      await manager.onConnected(connection);
      await manager.addToGroup(connection.connectionId, `group-${connection.connectionId}`);
    }
    await settle();
    const perMaster = await Promise.all(
      cluster.nodes.map(async (redis) =>
        Number(
          (await redis.cli("pubsub", "shardnumsub", ...manager.subscribedChannels))
            .split("\n")
            .filter((_, i) => i % 2 === 1)
            .reduce((sum, count) => sum + Number(count), 0),
        ),
      ),
    );
    expect(perMaster.filter((count) => count > 0).length).toBeGreaterThan(1);
    expect(perMaster.reduce((sum, count) => sum + count, 0)).toBe(manager.subscribedChannels.length);
    await manager.close();
  });
});
