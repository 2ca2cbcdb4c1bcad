import { Encoder } from "@msgpack/msgpack";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeEnvelope, type Envelope, EnvelopeKind, encodeEnvelope, type TargetKind } from "./envelope.js";

// Text of every length class MessagePack distinguishes (fixstr, str8, str16, str32): mostly short
// and varied, sometimes long (two-byte characters, built quickly).
const text = fc.oneof(
  { arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }), weight: 8 },
  { arbitrary: fc.integer({ min: 16, max: 40_000 }).map((count) => "é".repeat(count)), weight: 1 },
);
const record = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 8 },
  { arbitrary: fc.integer({ min: 256, max: 70_000 }).map((length) => new Uint8Array(length).fill(length & 0xff)), weight: 1 },
);
const invocation = fc.record({
  kind: fc.constant(EnvelopeKind.Invocation),
  messageId: text,
  serverId: text,
  target: fc.constantFrom<TargetKind>("all", "connections", "groups", "users"),
  names: fc.oneof(fc.array(text, { maxLength: 3 }), fc.array(fc.string({ maxLength: 3 }), { minLength: 16, maxLength: 20 })),
  excluded: fc.array(text, { maxLength: 3 }),
  encoded: fc
    .uniqueArray(fc.tuple(fc.constantFrom("json", "messagepack", "other"), record), { selector: ([name]) => name, maxLength: 3 })
    .map((entries) => new Map(entries)),
});

describe("envelopes", () => {
  it("reads back every kind it writes", () => {
    fc.assert(
      fc.property(invocation, (envelope) => {
        const decoded = decodeEnvelope(encodeEnvelope(envelope)) as typeof envelope;
        // Records come back as views of the bytes read (Buffers here); compare their contents.
        expect({ ...decoded, encoded: new Map([...decoded.encoded].map(([name, record]) => [name, Uint8Array.from(record)])) }).toEqual(envelope);
      }),
      { numRuns: 100 },
    );
    const others: Envelope[] = [
      { kind: EnvelopeKind.GroupCommand, requestId: "r1", serverId: "s1", action: "add", connectionId: "c1", group: "room" },
      { kind: EnvelopeKind.Ack, requestId: "r1" },
      { kind: EnvelopeKind.ResultRequest, requestId: "r2", serverId: "s1", connectionId: "c1", method: "ask", args: [1, "two", { three: 3 }], timeoutMs: 500 },
      { kind: EnvelopeKind.ResultResponse, requestId: "r2", error: null, result: { answer: 42 } },
      { kind: EnvelopeKind.Heartbeat, serverId: "s1", presenceSeq: 7 },
      {
        kind: EnvelopeKind.PresenceDelta,
        serverId: "s1",
        seq: 8,
        ops: [
          [0, "c1", "ada"],
          [0, "c2", null],
          [2, "c1", "lobby"],
          [3, "c1", "lobby"],
          [1, "c2"],
        ],
      },
      { kind: EnvelopeKind.PresenceSyncRequest, serverId: "s2" },
      {
        kind: EnvelopeKind.PresenceSnapshot,
        serverId: "s1",
        seq: 8,
        records: [
          ["c1", "ada", ["lobby", "news"]],
          ["c2", null, []],
        ],
      },
      {
        kind: EnvelopeKind.RelayOpen,
        relayId: "s1:9",
        serverId: "s1",
        url: "/hub?id=t",
        headers: { authorization: "Bearer x" },
        remoteAddress: null,
        transport: "events",
      },
      {
        kind: EnvelopeKind.RelayAnswer,
        relayId: "s1:9",
        serverId: "s2",
        accepted: false,
        status: 403,
        message: "The connection belongs to another user.",
        headers: { "Content-Type": "text/plain; charset=utf-8" },
      },
      { kind: EnvelopeKind.RelayFlow, relayId: "s1:9", serverId: "s2", paused: true },
      { kind: EnvelopeKind.RelayClose, relayId: "s1:9", serverId: "s1", code: 1006, reason: "" },
    ];
    for (const envelope of others) expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
    const frame = { kind: EnvelopeKind.RelayFrame, relayId: "s1:9", serverId: "s2", seq: 3, isBinary: true, data: Uint8Array.from([0x91, 0x01]) } as const;
    const decoded = decodeEnvelope(encodeEnvelope(frame));
    expect(decoded?.kind === EnvelopeKind.RelayFrame && { ...decoded, data: Uint8Array.from(decoded.data) }).toEqual(frame);
  });

  it("reads anything that is not an envelope as undefined", () => {
    for (const junk of [
      Buffer.from([0xc1]),
      Buffer.from("not msgpack"),
      new Encoder().encode([1, 2, 3]),
      new Encoder().encode({ kind: 1 }),
      new Uint8Array(),
    ]) {
      expect(decodeEnvelope(junk)).toBeUndefined();
    }
  });
});
