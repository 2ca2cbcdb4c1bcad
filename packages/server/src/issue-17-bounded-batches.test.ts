/**
 * Bursts leave as a run of bounded frames (issue 17): what a connection writes in one turn is still
 * batched, but never into one unbounded message, live or replayed after a stateful re-attach.
 */
import type { HubContract } from "@hubwire/protocol";
import { startTcpProxy } from "@hubwire/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { defineHub } from "./index.js";
import { MAX_BATCH_BYTES, OutboundBatch } from "./outbound-batch.js";
import { eventually } from "./test-helpers/official-client.js";
import { negotiate, openWebSocket } from "./test-helpers/raw-client.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

interface Burst extends HubContract {
  server: { burst(count: number): number };
  client: { seq(index: number, padding: string): void };
}

const padding = "x".repeat(100);
const hub = defineHub<Burst>({
  methods: {
    burst(ctx, count) {
      // All in one turn: nothing is awaited between the sends.
      for (let index = 1; index <= count; index++) void ctx.clients.caller.seq(index, padding);
      return count;
    },
  },
});

describe("OutboundBatch's bound", () => {
  it("hands over what is batched as soon as the next record would pass the bound, and the rest after the turn", async () => {
    const writes: number[] = [];
    const batch = new OutboundBatch({ writeBatch: (chunk) => writes.push(chunk.byteLength) });
    const record = new Uint8Array(MAX_BATCH_BYTES / 4 + 1);
    for (let i = 0; i < 7; i++) batch.add(record);
    // Three fit in a batch, the fourth would not: two batches of three left during the turn.
    expect(writes).toEqual([3 * record.byteLength, 3 * record.byteLength]);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(writes).toEqual([3 * record.byteLength, 3 * record.byteLength, record.byteLength]);
    const huge = new Uint8Array(MAX_BATCH_BYTES * 2);
    batch.add(record);
    batch.add(huge);
    expect(writes.slice(3)).toEqual([record.byteLength]);
    batch.flush();
    expect(writes.slice(4)).toEqual([huge.byteLength]);
  });
});

describe("a burst of 2,000 calls to one client", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ hubs: { "/hub": hub }, hubOptions: { allowStatefulReconnect: true, statefulReconnectBufferBytes: 1_000_000 } });
  });
  afterAll(() => server.close());

  it("reaches a client behind a throttled link as a run of frames: the first long before the last", async () => {
    const proxy = await startTcpProxy(server.port);
    try {
      const { body } = await negotiate(server.origin, "/hub");
      const socket = new WebSocket(`ws://127.0.0.1:${proxy.port}/hub?id=${body.connectionToken}`);
      await new Promise((resolve) => socket.once("open", resolve));
      const arrivals: Array<{ at: number; text: string }> = [];
      socket.on("message", (data: Buffer) => arrivals.push({ at: performance.now(), text: data.toString() }));
      socket.send('{"protocol":"json","version":1}\u001e');
      await eventually(() => arrivals.length === 1, 2_000, "the handshake answer");
      // About 300 KB at 300 KB/s: a second on the wire.
      proxy.setFault({ kind: "throttle", bytesPerSecond: 300_000 });
      const sentAt = performance.now();
      socket.send('{"type":1,"invocationId":"1","target":"burst","arguments":[2000]}\u001e');
      const seqAt = (index: number) => arrivals.find((arrival) => arrival.text.includes(`"arguments":[${index},`))?.at;
      await eventually(() => seqAt(2000) !== undefined, 10_000, "the last seq call");
      const first = seqAt(1)! - sentAt;
      const last = seqAt(2000)! - sentAt;
      expect(first).toBeLessThan(last / 2);
      for (const arrival of arrivals) expect(Buffer.byteLength(arrival.text)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
      socket.terminate();
    } finally {
      await proxy.close();
    }
  });

  it("replays them after a stateful re-attach in frames no larger than the bound", async () => {
    const { body } = await negotiate(server.origin, "/hub", "negotiateVersion=1&useStatefulReconnect=true");
    const url = `ws://127.0.0.1:${server.port}/hub?id=${body.connectionToken}`;
    const first = await openWebSocket(url);
    first.socket!.send('{"protocol":"json","version":2}\u001e{"type":1,"invocationId":"1","target":"burst","arguments":[2000]}\u001e');
    await eventually(() => first.frames.join("").includes('"invocationId":"1"'), 5_000, "the burst's Completion");
    first.socket!.terminate();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await openWebSocket(url);
    await eventually(() => second.frames.join("").includes('"invocationId":"1"'), 5_000, "the replay");
    const replayed = second.frames
      .join("")
      .split("\u001e")
      .filter((record) => record.includes('"target":"seq"'));
    expect(replayed).toHaveLength(2000);
    expect(second.frames.length).toBeGreaterThan(1);
    for (const frame of second.frames) expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    second.socket!.terminate();
  });
});
