import { lifetimeManagerContract } from "@hubwire/server/testing";
import { RedisProcess } from "@hubwire/test-support";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisLifetimeManager, redisLifetimeManager } from "./redis-lifetime-manager.js";

let redis: RedisProcess;
const clients: Redis[] = [];
beforeAll(async () => {
  redis = await RedisProcess.start();
});
afterAll(async () => {
  await Promise.all(clients.splice(0).map((client) => client.quit().catch(() => client.disconnect())));
  await redis.dispose();
});

function client(): Redis {
  const created = new Redis(redis.port, "127.0.0.1", { lazyConnect: false, maxRetriesPerRequest: 1 });
  clients.push(created);
  return created;
}

function node(hubName = "contract", prefix = `test-${Math.random().toString(36).slice(2)}`): RedisLifetimeManager {
  return new RedisLifetimeManager({ hubName, prefix, publisher: client(), subscriber: client(), ackTimeoutMs: 500 });
}

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 150));

lifetimeManagerContract(
  "RedisLifetimeManager, two nodes on one Redis",
  async () => {
    const prefix = `contract-${Math.random().toString(36).slice(2)}`;
    const nodes = [node("hub", prefix), node("hub", prefix)];
    await settle();
    return nodes;
  },
  settle,
);

describe("RedisLifetimeManager", () => {
  it("keeps hubs and apps apart: same group name, different hub or prefix", async () => {
    const a = node("chat", "app1");
    const b = node("chat:group:x", "app1");
    const c = node("chat", "app2");
    await settle();
    const received: string[] = [];
    const connection = (id: string) => ({
      connectionId: id,
      userId: undefined,
      write: () => void received.push(id),
      invokeClient: async () => undefined,
    });
    await b.onConnected(connection("b1"));
    await c.onConnected(connection("c1"));
    await b.addToGroup("b1", "x:all");
    await c.addToGroup("c1", "x");
    await a.send({ kind: "groups", groups: ["x"] }, { type: 1, target: "t", arguments: [] });
    await settle();
    expect(received).toEqual([]);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it("reports health and subscribes its hub channels", async () => {
    const manager = node("health");
    await settle();
    expect(manager.isHealthy).toBe(true);
    const counts = await redis.cli("pubsub", "numsub", manager.channels.all, manager.channels.groupCommands);
    expect(counts.split("\n")).toEqual([manager.channels.all, "1", manager.channels.groupCommands, "1"]);
    await manager.close();
  });

  it("opens and closes its own connections when given a URL", async () => {
    const create = redisLifetimeManager({ redis: `redis://127.0.0.1:${redis.port}`, prefix: `url-${Math.random()}` });
    const manager = create("hub");
    await settle();
    expect(manager.isHealthy).toBe(true);
    const before = Number(/connected_clients:(\d+)/.exec(await redis.cli("info", "clients"))![1]);
    await manager.close();
    await settle();
    const after = Number(/connected_clients:(\d+)/.exec(await redis.cli("info", "clients"))![1]);
    expect(before - after).toBe(2);
  });

  it("leaves the caller's connections open when it closes", async () => {
    const publisher = client();
    const subscriber = client();
    const manager = new RedisLifetimeManager({ hubName: "owned", prefix: `own-${Math.random()}`, publisher, subscriber });
    await settle();
    await manager.close();
    expect([publisher.status, subscriber.status]).toEqual(["ready", "ready"]);
    expect(await publisher.ping()).toBe("PONG");
  });
});
