/**
 * Inspecting a hub across nodes through the Redis backplane: every node's answer gathered from
 * any node, a node that does not answer named rather than waited for, connections and groups
 * merged across nodes, and the actions reaching the node that holds the connection. Real
 * redis-server, official clients.
 */

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHubServer, defineHub, type HubContract, type HubServer } from "@hubwire/server";
import { RedisProcess } from "@hubwire/test-support";
import { HttpTransportType, type HubConnection, HubConnectionBuilder, NullLogger } from "@microsoft/signalr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisLifetimeManager, redisLifetimeManager } from "./index.js";

interface Chat extends HubContract {
  server: { join(group: string): void; echo(text: string): string };
  client: Record<string, never>;
}
const chat = defineHub<Chat>({
  name: "chat",
  methods: {
    join: (ctx, group) => ctx.groups.add(ctx.connectionId, group),
    echo: (_ctx, text) => text,
  },
});

async function eventually(predicate: () => boolean, timeoutMs = 10_000, what = "a condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Node {
  readonly hubs: HubServer;
  readonly server: Server;
  readonly port: number;
  readonly manager: () => RedisLifetimeManager;
}

describe("hubs.inspect(hub) across nodes over Redis", () => {
  let redis: RedisProcess;
  const prefix = `inspect-${Math.random().toString(36).slice(2)}`;
  const heartbeatIntervalMs = 100;
  let a: Node;
  let b: Node;
  /** A node of the hub that hears and is heard, but has no hub server to answer inspections. */
  let silent: RedisLifetimeManager;
  const clients = new Map<string, HubConnection>();

  async function startNode(): Promise<Node> {
    let manager: RedisLifetimeManager | undefined;
    const factory = redisLifetimeManager({ redis: redis.url, prefix, heartbeatIntervalMs });
    const hubs = createHubServer({
      hubs: { "/chat": chat },
      lifetimeManager: (hubName) => (manager = factory(hubName)),
      authenticate: ({ accessToken }) => (accessToken === undefined ? undefined : { userId: accessToken }),
    });
    const server = createServer((_request, response) => response.writeHead(404).end());
    hubs.attach(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { hubs, server, port: (server.address() as AddressInfo).port, manager: () => manager! };
  }

  async function connect(node: Node, user: string): Promise<HubConnection> {
    const connection = new HubConnectionBuilder()
      .withUrl(`http://127.0.0.1:${node.port}/chat`, { transport: HttpTransportType.WebSockets, accessTokenFactory: () => user })
      .configureLogging(NullLogger.instance)
      .build();
    await connection.start();
    clients.set(user, connection);
    return connection;
  }

  beforeAll(async () => {
    redis = await RedisProcess.start();
    a = await startNode();
    b = await startNode();
    silent = new RedisLifetimeManager({ redis: redis.url, prefix, heartbeatIntervalMs, hubName: "chat" });
    await connect(a, "ann");
    await connect(a, "ben");
    await connect(b, "cat");
    await clients.get("ann")!.invoke("join", "red");
    await clients.get("cat")!.invoke("join", "red");
    await clients.get("ben")!.invoke("join", "blue");
    await clients.get("cat")!.invoke("echo", "hello");
    await eventually(() => a.manager().liveNodeCount === 2 && b.manager().liveNodeCount === 2, 10_000, "the nodes to hear each other");
  }, 30_000);

  afterAll(async () => {
    await Promise.all([...clients.values()].map((connection) => connection.stop()));
    for (const node of [a, b]) {
      await node.hubs.close();
      node.server.closeAllConnections();
      await new Promise((resolve) => node.server.close(resolve));
    }
    await silent.close().catch(() => undefined);
    await redis.dispose();
  });

  it("gathers every node's answer from any node, and names the node alive that did not answer in time", async () => {
    const { nodes, unanswered } = await a.hubs.inspect(chat).nodes();
    expect(unanswered).toEqual([silent.serverId]);
    expect(nodes.map((node) => node.nodeId).sort()).toEqual([a.manager().serverId, b.manager().serverId].sort());
    const onA = nodes.find((node) => node.nodeId === a.manager().serverId)!;
    const onB = nodes.find((node) => node.nodeId === b.manager().serverId)!;
    expect([onA.connections, onB.connections]).toEqual([2, 1]);
    expect(onB.messagesIn).toBeGreaterThanOrEqual(2);
  });

  it("answers at once once every node alive has answered", async () => {
    await silent.close();
    await eventually(() => a.manager().liveNodeCount === 1, 10_000, "the silent node to be gone");
    // A deadline far past this test's timeout: only finishing when every answer is in passes.
    const { answers, unanswered } = await b.manager().inspectNodes({}, 600_000);
    expect(unanswered).toEqual([]);
    expect(answers.map((answer) => answer.summary.nodeId).sort()).toEqual([a.manager().serverId, b.manager().serverId].sort());
  }, 10_000);

  it("lists connections across nodes with the node holding each, and pages them in id order", async () => {
    const inspection = b.hubs.inspect(chat);
    const { items, next } = await inspection.connections();
    expect(next).toBeUndefined();
    expect(items.map((connection) => connection.userId).sort()).toEqual(["ann", "ben", "cat"]);
    expect(items.map((connection) => connection.connectionId)).toEqual([...items.map((connection) => connection.connectionId)].sort());
    const ann = items.find((connection) => connection.userId === "ann")!;
    expect(ann).toMatchObject({ nodeId: a.manager().serverId, transport: "WebSockets", protocol: "json", groups: ["red"] });
    const first = await inspection.connections({ limit: 2 });
    const second = await inspection.connections({ limit: 2, after: first.next! });
    expect([...first.items, ...second.items].map((connection) => connection.connectionId)).toEqual(items.map((connection) => connection.connectionId));
    expect(second.next).toBeUndefined();
  });

  it("sums each group's size over the nodes", async () => {
    const { items } = await a.hubs.inspect(chat).groups();
    expect(items).toEqual([
      { name: "blue", size: 1 },
      { name: "red", size: 2 },
    ]);
  });

  it("removes a connection on another node from a group, and disconnects it", async () => {
    const inspection = a.hubs.inspect(chat);
    const cat = clients.get("cat")!;
    await inspection.removeFromGroup(cat.connectionId!, "red");
    expect((await inspection.groups()).items).toEqual([
      { name: "blue", size: 1 },
      { name: "red", size: 1 },
    ]);
    const closed = new Promise<Error | undefined>((resolve) => cat.onclose(resolve));
    await inspection.disconnect(cat.connectionId!);
    expect(String(await closed)).toContain("The server's operator ended the connection.");
    await eventually(() => b.hubs.connectionCount("/chat") === 0, 5_000, "node b to let the connection go");
    expect((await inspection.connections()).items.map((connection) => connection.userId).sort()).toEqual(["ann", "ben"]);
  });
});
