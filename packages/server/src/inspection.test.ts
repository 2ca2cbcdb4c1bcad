/**
 * Inspecting a hub on one node (the in-memory manager): connections with their users, transports,
 * protocols, groups and traffic, groups with their sizes, pages and search, and the two actions.
 * Across nodes over Redis: packages/redis/src/inspection.test.ts.
 */

import { ErrorCode, hasErrorCode } from "@hubwire/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOfficialClient } from "./test-helpers/official-client.js";
import { testHub } from "./test-helpers/test-hub.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

describe("hubs.inspect(hub) on one node", () => {
  let server: RunningServer;
  const clients: Array<ReturnType<typeof buildOfficialClient>["connection"]> = [];
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    server = await startServer({
      hubs: { "/hub": testHub },
      authenticate: ({ accessToken }) => (accessToken === undefined ? undefined : { userId: accessToken }),
    });
    for (const [user, protocol] of [
      ["ada", "json"],
      ["grace", "messagepack"],
      ["linus", "json"],
    ] as const) {
      const { connection } = buildOfficialClient(`${server.origin}/hub`, protocol, { accessTokenFactory: () => user });
      await connection.start();
      clients.push(connection);
      ids[user] = connection.connectionId!;
    }
    await clients[0]!.invoke("join", "lobby");
    await clients[1]!.invoke("join", "lobby");
    await clients[1]!.invoke("join", "rust");
    await clients[0]!.invoke("echo", "x".repeat(100));
  });
  afterAll(async () => {
    await Promise.all(clients.map((connection) => connection.stop()));
    await server.close();
  });

  it("reports the node: its connections, groups and message counts", async () => {
    const { nodes, unanswered } = await server.hubs.inspect(testHub).nodes();
    expect(unanswered).toEqual([]);
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ nodeId: "local", connections: 3, transports: { WebSockets: 3 }, groups: 2 });
    expect(nodes[0]!.messagesIn).toBeGreaterThanOrEqual(4);
    expect(nodes[0]!.messagesOut).toBeGreaterThanOrEqual(4);
  });

  it("lists each connection with its user, transport, protocol, groups and traffic", async () => {
    const { items, next } = await server.hubs.inspect(testHub).connections();
    expect(next).toBeUndefined();
    expect(items.map((connection) => connection.connectionId)).toEqual(Object.values(ids).sort());
    const ada = items.find((connection) => connection.userId === "ada")!;
    expect(ada).toMatchObject({ connectionId: ids["ada"], nodeId: "local", transport: "WebSockets", protocol: "json", groups: ["lobby"] });
    expect(ada.messagesIn).toBeGreaterThanOrEqual(2);
    expect(ada.bytesIn).toBeGreaterThan(100);
    expect(ada.bytesOut).toBeGreaterThan(100);
    expect(Math.abs(ada.connectedAt - Date.now())).toBeLessThan(60_000);
    const grace = items.find((connection) => connection.userId === "grace")!;
    expect(grace).toMatchObject({ protocol: "messagepack", groups: ["lobby", "rust"] });
  });

  it("pages connections in id order, and finds them by user", async () => {
    const inspection = server.hubs.inspect(testHub);
    const first = await inspection.connections({ limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.next).toBe(first.items[1]!.connectionId);
    const second = await inspection.connections({ limit: 2, after: first.next! });
    expect(second.items).toHaveLength(1);
    expect(second.next).toBeUndefined();
    expect([...first.items, ...second.items].map((connection) => connection.connectionId)).toEqual(Object.values(ids).sort());
    const found = await inspection.connections({ search: "GRAC" });
    expect(found.items.map((connection) => connection.userId)).toEqual(["grace"]);
  });

  it("lists groups with their sizes, by name", async () => {
    const { items } = await server.hubs.inspect(testHub).groups();
    expect(items).toEqual([
      { name: "lobby", size: 2 },
      { name: "rust", size: 1 },
    ]);
    expect((await server.hubs.inspect(testHub).groups({ search: "ru" })).items).toEqual([{ name: "rust", size: 1 }]);
  });

  it("removes a connection from a group, and disconnects one with a Close its client sees", async () => {
    const inspection = server.hubs.inspect(testHub);
    await inspection.removeFromGroup(ids["grace"]!, "rust");
    expect((await inspection.groups()).items).toEqual([{ name: "lobby", size: 2 }]);
    const closed = new Promise<Error | undefined>((resolve) => clients[2]!.onclose(resolve));
    await inspection.disconnect(ids["linus"]!);
    expect(String(await closed)).toContain("The server's operator ended the connection.");
    expect((await inspection.nodes()).nodes[0]!.connections).toBe(2);
    const unknown = await inspection.disconnect("no-such-connection").catch((error: unknown) => error);
    expect(hasErrorCode(unknown, ErrorCode.UnknownConnection)).toBe(true);
  });
});
