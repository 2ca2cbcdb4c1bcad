/**
 * Kept connections in Redis (`keepConnections`), store by store, on the machine's Redis: what a
 * hash holds and under which key, that it goes away, and the rules of a takeover (only once the
 * holder's lease ran out; once; the node that lost it can no longer write). The whole path (a node
 * SIGKILLed under the official client) is packages/e2e's resume-after-crash.test.ts.
 */
import { createHash } from "node:crypto";
import { silentLogger } from "@hubwire/server";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { KeptConnections } from "./kept-connections.js";

const heartbeatIntervalMs = 100;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function node(base: string, serverId: string): { kept: KeptConnections; client: Redis } {
  const client = new Redis({ host: "127.0.0.1", port: 6379 });
  const kept = new KeptConnections({
    client,
    base,
    serverId,
    heartbeatIntervalMs,
    logger: silentLogger,
    currentEntry: () => undefined,
    positions: () => ["5-0"],
  });
  cleanups.push(() => {
    kept.close();
    client.disconnect();
  });
  return { kept, client };
}

const identity = {
  connectionId: "c1",
  connectionToken: "secret-token",
  userId: "ann",
  protocol: "json",
  transport: "WebSockets",
  reconnectWindowMs: 1_000,
} as const;
const bytes = (text: string) => Buffer.from(text);

describe("kept connections", () => {
  it("are kept under a digest of their token, expire after the reconnect window, and are deleted when they end", async () => {
    const base = `kept-${Math.random()}`;
    const a = node(base, "a");
    const keeper = a.kept.keep(identity);
    await keeper.sent(1, bytes("one"), undefined);
    const key = `${base}:kept:{${createHash("sha256").update("secret-token").digest("hex")}}`;
    const stored = await a.client.hgetall(key);
    expect(stored).toMatchObject({ node: "a", id: "c1", user: "ann", protocol: "json", "o:1": "one", last: "1", "e:0": "5-0" });
    expect(JSON.stringify(stored)).not.toContain("secret-token");
    const ttl = await a.client.pttl(key);
    expect(ttl).toBeGreaterThan(1_000);
    expect(ttl).toBeLessThanOrEqual(1_000 + 4 * heartbeatIntervalMs);
    keeper.ended();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await a.client.exists(key)).toBe(0);
  });

  it("are taken over once their holder's lease ran out: unacknowledged messages, progress, open calls and groups, once", async () => {
    const base = `kept-${Math.random()}`;
    const a = node(base, "a");
    const keeper = a.kept.keep(identity);
    await Promise.all([keeper.sent(1, bytes("one"), undefined), keeper.sent(2, bytes("two"), undefined), keeper.sent(3, bytes("three"), undefined)]);
    await keeper.received(2, ["call-1", "call-2"], []);
    await keeper.sent(4, bytes("answer to call-1"), "call-1");
    await a.kept.group("c1", "add", "room");
    keeper.acknowledged(2);
    const b = node(base, "b");
    // A lives (renews its lease): B does not take its connection.
    await expect(b.kept.takeOver("secret-token")).rejects.toThrow(/still holds its lease/);
    a.kept.close();
    const taken = await b.kept.takeOver("secret-token");
    expect(taken?.connection).toMatchObject({
      connectionId: "c1",
      userId: "ann",
      protocol: "json",
      transport: "WebSockets",
      receivedThrough: 2,
      lastSequenceId: 4,
      openInvocations: ["call-2"],
      groups: ["room"],
    });
    expect(b.kept.resuming("c1")).toMatchObject({ holder: "a", groups: ["room"], delivered: new Map([[0, "5-0"]]), holderPositions: ["5-0"] });
    expect(taken!.connection.messages.map((message) => [message.sequenceId, Buffer.from(message.bytes).toString()])).toEqual([
      [3, "three"],
      [4, "answer to call-1"],
    ]);
    // The node that lost it cannot write it any more, nor delete it.
    await expect(keeper.sent(5, bytes("late"), undefined)).rejects.toThrow(/held by another node/);
    keeper.ended();
    await taken!.keeper.sent(5, bytes("five"), undefined);
    // Nor can a third node take it from B while B lives; an unknown token is nothing to take.
    const c = node(base, "c");
    await expect(c.kept.takeOver("secret-token")).rejects.toThrow(/still holds its lease/);
    expect(await c.kept.takeOver("another-token")).toBeUndefined();
  });
});
