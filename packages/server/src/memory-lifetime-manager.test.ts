import { JsonHubProtocol } from "@hubwire/protocol";
import { describe, expect, it } from "vitest";
import { MemoryLifetimeManager } from "./memory-lifetime-manager.js";
import { lifetimeManagerContract, RecordingConnection } from "./testing/lifetime-manager-contract.js";

lifetimeManagerContract("MemoryLifetimeManager", async () => [new MemoryLifetimeManager()]);

describe("MemoryLifetimeManager", () => {
  it("returns its maps to empty when every connection has left", async () => {
    const manager = new MemoryLifetimeManager();
    const connections = Array.from({ length: 20 }, (_, i) => new RecordingConnection(`c${i}`, `u${i % 3}`));
    for (const connection of connections) {
      await manager.onConnected(connection);
      await manager.addToGroup(connection.connectionId, `g${connection.connectionId.length}`);
    }
    for (const connection of connections) await manager.onDisconnected(connection);
    expect(manager.connectionCount).toBe(0);
    expect(manager.groupCount).toBe(0);
  });

  it("encodes a broadcast once per protocol, not once per connection", async () => {
    const json = new JsonHubProtocol();
    const manager = new MemoryLifetimeManager();
    const seen = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      const connection = new RecordingConnection(`c${i}`);
      const write = connection.write.bind(connection);
      connection.write = (message) => {
        seen.add(message.bytesFor(json));
        write(message);
      };
      await manager.onConnected(connection);
    }
    await manager.send({ kind: "all" }, { type: 1, target: "say", arguments: ["x"] });
    expect(seen.size).toBe(1);
  });
});
