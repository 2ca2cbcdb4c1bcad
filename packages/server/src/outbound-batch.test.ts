import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutboundBatch } from "./outbound-batch.js";
import { eventually } from "./test-helpers/official-client.js";
import { RawHubSocket } from "./test-helpers/raw-client.js";
import { testHub } from "./test-helpers/test-hub.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

const bytes = (text: string) => Buffer.from(text);
const nextTick = () => new Promise((resolve) => process.nextTick(resolve));

describe("OutboundBatch", () => {
  it("writes the records added within one tick as one chunk, in order, after the tick", async () => {
    const writes: string[] = [];
    const batch = new OutboundBatch({ writeBatch: (chunk) => writes.push(Buffer.from(chunk).toString()) });
    batch.add(bytes("a"));
    await Promise.resolve();
    batch.add(bytes("b"));
    expect(writes).toEqual([]);
    await nextTick();
    expect(writes).toEqual(["ab"]);
    batch.add(bytes("c"));
    await nextTick();
    expect(writes).toEqual(["ab", "c"]);
  });

  it("writes at once on flush, and drops what is queued on discard", async () => {
    const writes: string[] = [];
    const batch = new OutboundBatch({ writeBatch: (chunk) => writes.push(Buffer.from(chunk).toString()) });
    batch.add(bytes("a"));
    batch.flush();
    expect(writes).toEqual(["a"]);
    batch.add(bytes("b"));
    batch.discard();
    await nextTick();
    expect(writes).toEqual(["a"]);
  });
});

describe("a connection's writes", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ hubs: { "/hub": testHub } });
  });
  afterAll(() => server.close());

  it("answers requests that arrived together in one WebSocket frame, in order", async () => {
    const socket = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub`);
    socket.send('{"protocol":"json","version":1}\u001e');
    await eventually(() => socket.frames.length === 1, 5_000, "the handshake answer");
    const calls = Array.from({ length: 16 }, (_, index) => `{"type":1,"invocationId":"${index}","target":"echo","arguments":[${index}]}\u001e`);
    socket.send(calls.join(""));
    await eventually(() => socket.records.length === 17, 5_000, "16 completions");
    expect(socket.frames).toHaveLength(2);
    expect(socket.records.slice(1)).toEqual(Array.from({ length: 16 }, (_, index) => ({ type: 3, invocationId: String(index), result: index })));
    socket.close();
  });
});
