/**
 * Catching up a connection taken over from a node that died (kept-catch-up.ts), on the machine's
 * Redis: entries written as durable delivery writes them, and the rules that decide which of them
 * the connection is given, and when it is told it lost some instead.
 */
import { JsonHubProtocol } from "@hubwire/protocol";
import { type ManagedConnection, type SerializedMessage, silentLogger } from "@hubwire/server";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { EnvelopeKind, encodeEnvelope, type TargetKind } from "./envelope.js";
import { catchUp } from "./kept-catch-up.js";
import type { Resumption } from "./kept-connections.js";
import { entryFields } from "./stream-entry.js";

const client = new Redis({ host: "127.0.0.1", port: 6379 });
afterAll(() => client.disconnect());
const json = new JsonHubProtocol();
const deliverEntry = (_shard: number, _id: string, deliver: () => void) => deliver();

/** A catch-up on one stream, as node "b", whose readers stopped at `stoppedAt`, having sent `ownThrough` messages itself. */
const options = (stream: string, stoppedAt: string, ownThrough: number) => ({
  client,
  streams: [stream],
  serverId: "b",
  readerPositions: [stoppedAt],
  ownThrough,
  logger: silentLogger,
  deliverEntry,
});

/** The connection being caught up: what it was written, as the text of each invocation's argument. */
function connection(): ManagedConnection & { readonly got: string[] } {
  const got: string[] = [];
  return {
    connectionId: "c1",
    userId: "ann",
    protocol: json,
    got,
    write: (message: SerializedMessage) => void got.push(JSON.parse(Buffer.from(message.bytesFor(json)).toString().slice(0, -1)).arguments[0]),
    invokeClient: () => Promise.reject(new Error("not here")),
  };
}

/** Appends an entry as a node's durable delivery does; returns its id. */
async function append(
  stream: string,
  sender: string,
  seq: number,
  text: string,
  target: TargetKind,
  names: string[],
  excluded: string[] = [],
): Promise<string> {
  const record = Buffer.from(`${JSON.stringify({ type: 1, target: "message", arguments: [text] })}\u001e`);
  const envelope = encodeEnvelope({
    kind: EnvelopeKind.Invocation,
    messageId: `${sender}:${seq}`,
    serverId: sender,
    target,
    names,
    excluded,
    encoded: new Map([["json", record]]),
  });
  return (await client.xadd(stream, "*", ...entryFields(sender, seq, [], envelope)))!;
}

describe("catching up a connection taken over from a node that died", () => {
  it("gives it what the streams hold for it after the holder's position: the others' up to where the readers stopped, its own up to its last send, none of the holder's", async () => {
    const stream = `catch-up-${Math.random()}`;
    const before = await append(stream, "c", 1, "before the holder's position", "all", []);
    const position = await append(stream, "c", 2, "at the holder's position", "all", []);
    await append(stream, "c", 3, "to its group", "groups", ["room"]);
    await append(stream, "c", 4, "to another group", "groups", ["hall"]);
    await append(stream, "c", 5, "to all but it", "all", [], ["c1"]);
    await append(stream, "c", 6, "to its user", "users", ["ann"]);
    await append(stream, "c", 7, "to it", "connections", ["c1"]);
    await append(stream, "a", 1, "from the holder", "all", []);
    await append(stream, "b", 1, "this node's own, before it registered", "all", []);
    await append(stream, "b", 1, "the same send again (a retry)", "all", []);
    const stoppedAt = await append(stream, "c", 8, "where the readers stopped", "all", []);
    await append(stream, "c", 9, "after the readers stopped (theirs to deliver)", "all", []);
    await append(stream, "b", 2, "this node's own, before it registered, after the readers stopped", "all", []);
    await append(stream, "b", 3, "this node's own, after it registered (it went through the stand-in)", "all", []);
    const resumption: Resumption = { holder: "a", groups: ["room"], delivered: new Map([[0, before]]), holderPositions: [position] };
    const caughtUp = connection();
    const result = await catchUp(caughtUp, resumption, options(stream, stoppedAt, 2));
    expect(caughtUp.got).toEqual([
      "to its group",
      "to its user",
      "to it",
      "this node's own, before it registered",
      "where the readers stopped",
      "this node's own, before it registered, after the readers stopped",
    ]);
    expect(result).toEqual({ delivered: 6 });
    await client.del(stream);
  });

  it("starts after the last entry delivered to it when that is later than the holder's position", async () => {
    const stream = `catch-up-${Math.random()}`;
    const position = await append(stream, "c", 1, "at the holder's position", "all", []);
    const delivered = await append(stream, "c", 2, "delivered and stored by the holder", "all", []);
    const last = await append(stream, "c", 3, "not delivered yet", "all", []);
    const caughtUp = connection();
    const resumption: Resumption = { holder: "a", groups: [], delivered: new Map([[0, delivered]]), holderPositions: [position] };
    await catchUp(caughtUp, resumption, options(stream, last, 0));
    expect(caughtUp.got).toEqual(["not delivered yet"]);
    await client.del(stream);
  });

  it("delivers nothing and says so when the stream no longer holds its position", async () => {
    const stream = `catch-up-${Math.random()}`;
    const position = await append(stream, "c", 1, "at the holder's position", "all", []);
    await append(stream, "c", 2, "trimmed away", "all", []);
    const last = await append(stream, "c", 3, "kept", "all", []);
    await client.xtrim(stream, "MAXLEN", 1);
    const caughtUp = connection();
    const resumption: Resumption = { holder: "a", groups: [], delivered: new Map(), holderPositions: [position] };
    const result = await catchUp(caughtUp, resumption, options(stream, last, 0));
    expect(result).toEqual({ lost: "the stream no longer holds the position (trimmed past it, or lost by Redis)" });
    expect(caughtUp.got).toEqual([]);
    await client.del(stream);
  });
});
