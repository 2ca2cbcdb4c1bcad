/**
 * A stream reader's pauses (kept-catch-up.ts pauses every reader of a node while it catches a
 * connection up), on the machine's Redis: nothing is delivered while any holder of a pause has not
 * resumed it, everything after once all have, and closing a reader lets go of every pause.
 */
import { silentLogger } from "@hubwire/server";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { EnvelopeKind, encodeEnvelope } from "./envelope.js";
import { entryFields } from "./stream-entry.js";
import { StreamReader } from "./stream-reader.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function reader(stream: string, delivered: string[]): StreamReader {
  const client = new Redis({ host: "127.0.0.1", port: 6379 });
  const streamReader = new StreamReader({
    client,
    stream,
    epochKey: `${stream}:epoch`,
    serverId: "reader",
    blockMs: 50,
    batchSize: 16,
    validateIntervalMs: 1_000,
    logger: silentLogger,
    deliver: (_envelope, id) => void delivered.push(id),
    malformed: () => undefined,
    lossFound: () => undefined,
  });
  streamReader.start();
  cleanups.push(() => streamReader.close());
  return streamReader;
}

async function append(client: Redis, stream: string, seq: number): Promise<string> {
  const envelope = encodeEnvelope({
    kind: EnvelopeKind.Invocation,
    messageId: `w:${seq}`,
    serverId: "w",
    target: "all",
    names: [],
    excluded: [],
    encoded: new Map(),
  });
  return (await client.xadd(stream, "*", ...entryFields("w", seq, [], envelope)))!;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a stream reader's pauses", () => {
  it("delivers nothing while a pause is held, and goes on once every holder resumed", async () => {
    const stream = `reader-${Math.random()}`;
    const writer = new Redis({ host: "127.0.0.1", port: 6379 });
    cleanups.push(() => writer.disconnect());
    const delivered: string[] = [];
    const streamReader = reader(stream, delivered);
    await streamReader.positioned;
    const first = await append(writer, stream, 1);
    while (delivered.length === 0) await settle(10);
    const [one, two] = await Promise.all([streamReader.pause(), streamReader.pause()]);
    expect(one.position).toBe(first);
    const second = await append(writer, stream, 2);
    await settle(200);
    expect(delivered).toEqual([first]);
    one.resume();
    one.resume(); // once counts once
    await settle(200);
    expect(delivered).toEqual([first]);
    two.resume();
    while (delivered.length < 2) await settle(10);
    expect(delivered).toEqual([first, second]);
    await writer.del(stream, `${stream}:epoch`);
  });

  it("lets go of every pause when it closes, held or awaited", async () => {
    const stream = `reader-${Math.random()}`;
    const streamReader = reader(stream, []);
    await streamReader.positioned;
    const held = await streamReader.pause();
    const awaited = streamReader.pause();
    await streamReader.close();
    await expect(awaited).resolves.toMatchObject({ position: held.position });
    await expect(streamReader.pause()).resolves.toMatchObject({ position: held.position });
  });
});
