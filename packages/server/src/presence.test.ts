import { afterEach, describe, expect, it } from "vitest";
import { defineHub, type HubContract } from "./index.js";
import type { Logger } from "./logger.js";
import { type PresenceChange, PresenceMap } from "./presence.js";
import { buildOfficialClient, eventually } from "./test-helpers/official-client.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

function recorded(map: PresenceMap): string[] {
  const events: string[] = [];
  map.onUserOnline(({ userId, nodeId, local }) => events.push(`+${userId}@${nodeId}${local ? " local" : ""}`));
  map.onUserOffline(({ userId, nodeId, local }) => events.push(`-${userId}@${nodeId}${local ? " local" : ""}`));
  return events;
}

describe("PresenceMap", () => {
  it("raises online for a user's first connection anywhere and offline for the last, and indexes users and groups", () => {
    const map = new PresenceMap("a");
    const events = recorded(map);
    map.connect("a", "c1", "ada");
    map.connect("b", "c2", "ada");
    map.connect("b", "c3", null);
    map.connect("b", "c4", "bob");
    map.join("a", "c1", "lobby");
    map.join("b", "c3", "lobby");
    map.join("b", "c4", "lobby");
    map.join("a", "c4", "lobby"); // not a's connection: ignored
    expect(map.users().sort()).toEqual(["ada", "bob"]);
    expect(map.connectionsOf("ada").sort()).toEqual(["c1", "c2"]);
    expect(map.groupCount("lobby")).toBe(3);
    expect(map.groupMembers("lobby")).toEqual([
      { connectionId: "c1", userId: "ada" },
      { connectionId: "c3", userId: null },
      { connectionId: "c4", userId: "bob" },
    ]);
    expect(map.groupUsers("lobby").sort()).toEqual(["ada", "bob"]);
    map.disconnect("a", "c1");
    expect(map.isOnline("ada")).toBe(true);
    map.disconnect("b", "c2");
    map.leave("b", "c4", "lobby");
    expect(map.groupUsers("lobby")).toEqual([]);
    expect(events).toEqual(["+ada@a local", "+bob@b", "-ada@b"]);
  });

  it("drops a node's connections at once, and replaces a node by its snapshot without flickering its users", () => {
    const map = new PresenceMap("a");
    map.connect("b", "c1", "ada");
    map.connect("b", "c2", "bob");
    map.join("b", "c2", "lobby");
    const events = recorded(map);
    // The snapshot keeps ada (another connection), changes bob's groups, adds cyd.
    map.replaceNode("b", [
      { connectionId: "c9", userId: "ada", groups: [] },
      { connectionId: "c2", userId: "bob", groups: ["news"] },
      { connectionId: "c3", userId: "cyd", groups: ["lobby"] },
    ]);
    expect(events).toEqual(["+cyd@b"]);
    expect(map.connectionsOf("ada")).toEqual(["c9"]);
    expect(map.groupMembers("lobby")).toEqual([{ connectionId: "c3", userId: "cyd" }]);
    expect(map.groupCount("news")).toBe(1);
    map.dropNode("b");
    expect(events.slice(1).sort()).toEqual(["-ada@b", "-bob@b", "-cyd@b"]);
    expect(map.users()).toEqual([]);
    expect(map.groupCount("news")).toBe(0);
  });

  it("logs a listener that throws, and still tells the others", () => {
    const lines: string[] = [];
    const logger: Logger = { log: (_level, message) => void lines.push(message) };
    const map = new PresenceMap("a", logger);
    const seen: PresenceChange[] = [];
    map.onUserOnline(() => {
      throw new Error("app bug");
    });
    map.onUserOnline((change) => seen.push(change));
    map.connect("a", "c1", "ada");
    expect(seen).toEqual([{ userId: "ada", nodeId: "a", local: true }]);
    expect(lines).toEqual(["A presence listener threw."]);
  });
});

interface Room extends HubContract {
  server: { join(room: string): void };
  client: Record<string, never>;
}

describe("hubContext(hub).presence on one process", () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
  });

  it("knows the users online, their connections and the groups' members, with events", async () => {
    const room = defineHub<Room>({ methods: { join: (ctx, group) => ctx.groups.add(ctx.connectionId, group) } });
    server = await startServer({ hubs: { "/room": room }, authenticate: ({ accessToken }) => (accessToken ? { userId: accessToken } : undefined) });
    const presence = server.hubs.hubContext(room).presence;
    const events: string[] = [];
    presence.onUserOnline(({ userId, local }) => events.push(`+${userId}${local ? "" : " remote"}`));
    presence.onUserOffline(({ userId }) => events.push(`-${userId}`));
    const connect = async (user: string) => {
      const { connection } = buildOfficialClient(`${server!.origin}/room`, "json", { accessTokenFactory: () => user });
      await connection.start();
      return connection;
    };
    const ada1 = await connect("ada");
    const ada2 = await connect("ada");
    const bob = await connect("bob");
    await ada1.invoke("join", "lobby");
    await bob.invoke("join", "lobby");
    expect(presence.users().sort()).toEqual(["ada", "bob"]);
    expect(presence.connectionsOf("ada").sort()).toEqual([ada1.connectionId, ada2.connectionId].sort());
    expect(presence.groupUsers("lobby").sort()).toEqual(["ada", "bob"]);
    await ada1.stop();
    expect(presence.isOnline("ada")).toBe(true);
    await ada2.stop();
    await eventually(() => !presence.isOnline("ada"), 2_000, "ada to go offline");
    expect(presence.groupCount("lobby")).toBe(1);
    await bob.stop();
    await eventually(() => events.length === 4, 2_000, "four events");
    expect(events).toEqual(["+ada", "+bob", "-ada", "-bob"]);
  });
});
