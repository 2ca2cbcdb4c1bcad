import { createHubServer, defineHub } from "@hubwire/server";
import { RedisProcess } from "@hubwire/test-support";
import { HttpTransportType, type HubConnection, HubConnectionBuilder, NullLogger } from "@microsoft/signalr";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisLifetimeManager } from "./redis-lifetime-manager.js";
import { type HubNode, startHubNode } from "./test-helpers/hub-nodes.js";

async function eventually(predicate: () => boolean, timeoutMs = 5_000, what = "a condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each([2, 3])("%i Hubwire nodes in separate processes over Redis, official clients", (nodeCount) => {
  let redis: RedisProcess;
  let nodes: HubNode[];
  const prefix = `multi-${nodeCount}-${Math.random().toString(36).slice(2)}`;
  const clients: Array<{ connection: HubConnection; inbox: string[]; connectionId: string; node: number }> = [];

  beforeAll(async () => {
    redis = await RedisProcess.start();
    nodes = await Promise.all(Array.from({ length: nodeCount }, (_, i) => startHubNode(`node${i}`, redis.port, prefix)));
    // Six clients spread round-robin over the nodes; users ann (twice, on different nodes), ben, cat.
    const users = ["ann", "ann", "ben", "cat", undefined, undefined];
    for (const [index, user] of users.entries()) {
      const node = index % nodeCount;
      const connection = new HubConnectionBuilder()
        .withUrl(`http://127.0.0.1:${nodes[node]!.port}/hub`, {
          transport: HttpTransportType.WebSockets,
          ...(user === undefined ? {} : { accessTokenFactory: () => user }),
        })
        .configureLogging(NullLogger.instance)
        .build();
      const inbox: string[] = [];
      connection.on("receive", (text: string) => inbox.push(text));
      connection.on("question", (question: string) => `${question}? answered on node ${node}`);
      await connection.start();
      clients.push({ connection, inbox, connectionId: connection.connectionId!, node });
    }
    await clients[0]!.connection.invoke("join", "red");
    await clients[1]!.connection.invoke("join", "red");
    await clients[2]!.connection.invoke("join", "blue");
    await clients[3]!.connection.invoke("join", "red");
    await clients[3]!.connection.invoke("join", "blue");
  }, 30_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.connection.stop()));
    await Promise.all(nodes.map((node) => node.stop()));
    await redis.dispose();
  });

  async function reach(from: number, target: Record<string, unknown>): Promise<number[]> {
    const text = `${String(target["kind"])}-${Math.random()}`;
    await clients[from]!.connection.invoke("sendTo", target, text);
    const marker = `marker-${Math.random()}`;
    await clients[from]!.connection.invoke("sendTo", { kind: "all" }, marker);
    await eventually(() => clients.every((client) => client.inbox.includes(marker)), 5_000, "the marker on every node");
    return clients.flatMap((client, index) => {
      const count = client.inbox.filter((entry) => entry === text).length;
      expect(count, `client ${index} received ${target["kind"]} ${count} times`).toBeLessThanOrEqual(1);
      return count === 1 ? [index] : [];
    });
  }

  it("delivers every target exactly once to exactly the right connections, from every node", async () => {
    const id = (index: number) => clients[index]!.connectionId;
    for (const from of [0, 1]) {
      expect(await reach(from, { kind: "all" })).toEqual([0, 1, 2, 3, 4, 5]);
      expect(await reach(from, { kind: "allExcept", ids: [id(1), id(4)] })).toEqual([0, 2, 3, 5]);
      expect(await reach(from, { kind: "others" })).toEqual([0, 1, 2, 3, 4, 5].filter((index) => index !== from));
      expect(await reach(from, { kind: "client", id: id(2) })).toEqual([2]);
      expect(await reach(from, { kind: "clients", ids: [id(2), id(5), id(from)] })).toEqual([...new Set([from, 2, 5])].sort());
      expect(await reach(from, { kind: "group", name: "red" })).toEqual([0, 1, 3]);
      expect(await reach(from, { kind: "groups", names: ["red", "blue"] })).toEqual([0, 1, 2, 3]);
      expect(await reach(from, { kind: "groupExcept", name: "red", ids: [id(3)] })).toEqual([0, 1]);
      expect(await reach(from, { kind: "othersInGroup", name: "red" })).toEqual([0, 1, 3].filter((index) => index !== from));
      expect(await reach(from, { kind: "user", id: "ann" })).toEqual([0, 1]);
      expect(await reach(from, { kind: "users", ids: ["ben", "cat", "nobody"] })).toEqual([2, 3]);
    }
  });

  it("adds a connection held by another node to a group, and refuses an unknown one", async () => {
    const remote = clients.find((client) => client.node !== clients[0]!.node)!;
    await clients[0]!.connection.invoke("addToGroup", remote.connectionId, "green");
    expect(await reach(0, { kind: "group", name: "green" })).toEqual([clients.indexOf(remote)]);
    await expect(clients[0]!.connection.invoke("addToGroup", "no-such-connection", "green")).rejects.toThrow(
      "An unexpected error occurred invoking 'addToGroup' on the server.",
    );
  });

  it("awaits a client result from a connection on another node", async () => {
    const remote = clients.find((client) => client.node !== clients[0]!.node)!;
    expect(await clients[0]!.connection.invoke("askOther", remote.connectionId, "ready")).toBe(`ready? answered on node ${remote.node}`);
  });

  it("sends from a process that holds no connections, through a hub context backed only by Redis", async () => {
    const publisher = new Redis(redis.port, "127.0.0.1");
    const subscriber = new Redis(redis.port, "127.0.0.1");
    const outsideHub = defineHub<{ server: object; client: { receive(text: string): void } }>({ methods: {} });
    const outside = createHubServer({
      hubs: { "/hub": outsideHub },
      lifetimeManager: redisLifetimeManager({ publisher, subscriber, prefix }),
    });
    try {
      const context = outside.hubContext(outsideHub);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await context.clients.all.receive("from outside");
      await eventually(() => clients.every((client) => client.inbox.includes("from outside")), 5_000, "the outside message");
      await context.clients.user("ben").receive("to ben");
      await eventually(() => clients[2]!.inbox.includes("to ben"));
      expect(clients.filter((client) => client.inbox.includes("to ben"))).toHaveLength(1);
    } finally {
      await outside.close();
      publisher.disconnect();
      subscriber.disconnect();
    }
  });
});
