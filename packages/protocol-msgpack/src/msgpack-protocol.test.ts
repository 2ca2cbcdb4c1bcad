import { ErrorCode, type HubMessage, MessageType } from "@hubwire/protocol";
import { normalizeMessage } from "@hubwire/test-support";
import { NullLogger, type HubMessage as OfficialHubMessage } from "@microsoft/signalr";
import { MessagePackHubProtocol as OfficialMessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import { encode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { writeBinaryRecord } from "./binary-framing.js";
import { MessagePackHubProtocol } from "./msgpack-protocol.js";

const ours = new MessagePackHubProtocol();
const official = new OfficialMessagePackHubProtocol();
const officialWrite = (message: HubMessage) => new Uint8Array(official.writeMessage(message as unknown as OfficialHubMessage));
const officialParse = (bytes: Uint8Array) => official.parseMessages(bytes.slice().buffer, NullLogger.instance);
const record = (value: unknown) => writeBinaryRecord(encode(value));

const edgeValues: Record<string, unknown> = {
  zero: 0,
  false: false,
  "empty string": "",
  null: null,
  "nested objects": { a: { b: [1, { c: "d" }], e: null }, f: [] },
  binary: Uint8Array.of(0, 1, 254, 255),
  "empty binary": new Uint8Array(0),
  unicode: "héllo € 😀 \u2028 \u0000",
  date: new Date(Date.UTC(2026, 10, 25, 12, 0, 0, 123)),
  "large integer": Number.MAX_SAFE_INTEGER,
  "negative float": -1.5e-300,
};

/** Messages of every type the official parser reads (it skips 4 and 5, which clients never receive). */
function messagesOfficialReads(value: unknown): HubMessage[] {
  return [
    { type: MessageType.Invocation, invocationId: "1", target: "Receive", arguments: [value, value] },
    { type: MessageType.Invocation, target: "Receive", arguments: [] },
    { type: MessageType.Invocation, invocationId: "2", target: "Upload", arguments: [value], headers: { a: "b" } },
    { type: MessageType.StreamItem, invocationId: "3", item: value },
    { type: MessageType.Completion, invocationId: "1", result: value },
    { type: MessageType.Completion, invocationId: "1" },
    { type: MessageType.Completion, invocationId: "1", error: "An unexpected error occurred invoking 'x' on the server." },
    { type: MessageType.Ping },
    { type: MessageType.Close },
    { type: MessageType.Close, error: "bye", allowReconnect: true },
    { type: MessageType.Ack, sequenceId: 0 },
    { type: MessageType.Sequence, sequenceId: 2 ** 40 },
  ];
}

describe("MessagePackHubProtocol against the official @microsoft/signalr-protocol-msgpack", () => {
  for (const [name, value] of Object.entries(edgeValues)) {
    it(`what we write, it reads as the same message (${name})`, () => {
      for (const message of messagesOfficialReads(value)) {
        expect(officialParse(ours.write(message)).map(normalizeMessage)).toEqual([normalizeMessage(message)]);
      }
    });

    it(`what it writes, we read as the same message (${name})`, () => {
      const all: HubMessage[] = [
        ...messagesOfficialReads(value).filter((m) => m.type !== MessageType.Close || m.error === undefined),
        { type: MessageType.Invocation, invocationId: "4", target: "Upload", arguments: [value], streamIds: ["5", "6"] },
        { type: MessageType.StreamInvocation, invocationId: "5", target: "Counter", arguments: [value], streamIds: ["6"] },
        { type: MessageType.StreamInvocation, invocationId: "5", target: "Counter", arguments: [value] },
        { type: MessageType.CancelInvocation, invocationId: "5", headers: { x: "y" } },
      ];
      for (const message of all) {
        expect(ours.parse(officialWrite(message)).map(normalizeMessage)).toEqual([normalizeMessage(message)]);
      }
    });
  }

  it("reads a Close the official client writes, which always has a nil error", () => {
    expect(ours.parse(officialWrite({ type: MessageType.Close, error: "dropped by its writer" }))).toEqual([{ type: MessageType.Close }]);
  });

  it("writes stream ids that the official client can read back", () => {
    // The official parser drops stream ids (a client never receives them); compare the raw arrays.
    const message: HubMessage = { type: MessageType.Invocation, invocationId: "1", target: "t", arguments: [], streamIds: ["2"] };
    expect(ours.write(message)).toEqual(officialWrite(message));
  });

  it("reads a batch of records the official client wrote into one frame", () => {
    const messages = messagesOfficialReads(1).filter((m) => m.type !== MessageType.Close || m.error === undefined);
    const frames = messages.map(officialWrite);
    const batch = new Uint8Array(frames.reduce((sum, frame) => sum + frame.length, 0));
    frames.reduce((offset, frame) => (batch.set(frame, offset), offset + frame.length), 0);
    expect(ours.parse(batch).map(normalizeMessage)).toEqual(messages.map(normalizeMessage));
  });

  it("reads both the 5-element Invocation of JS clients and the 6-element one", () => {
    expect(ours.parse(record([1, {}, "1", "t", [1]]))).toEqual([{ type: 1, invocationId: "1", target: "t", arguments: [1] }]);
    expect(ours.parse(record([1, {}, "1", "t", [1], ["s"]]))).toEqual([{ type: 1, invocationId: "1", target: "t", arguments: [1], streamIds: ["s"] }]);
    expect(ours.parse(record([1, {}, null, "t", [], [], "future field"]))).toEqual([{ type: 1, target: "t", arguments: [] }]);
  });

  it("reads Completion result kinds 1, 2 and 3, nil as a value of kind 3", () => {
    expect(ours.parse(record([3, {}, "1", 1, "boom"]))).toEqual([{ type: 3, invocationId: "1", error: "boom" }]);
    expect(ours.parse(record([3, {}, "1", 2]))).toEqual([{ type: 3, invocationId: "1" }]);
    expect(ours.parse(record([3, {}, "1", 3, null]))).toEqual([{ type: 3, invocationId: "1", result: null }]);
    expect(ours.parse(record([3, {}, "1", 3, 0]))).toEqual([{ type: 3, invocationId: "1", result: 0 }]);
  });

  it("writes Ping as exactly 0x91 0x06 after its prefix", () => {
    expect([...ours.write({ type: MessageType.Ping })]).toEqual([0x02, 0x91, 0x06]);
  });

  it("round-trips a 256 MB message, whose length prefix takes 5 bytes, with the official client", { timeout: 60_000 }, () => {
    const big = new MessagePackHubProtocol({ maxMessageBytes: 2 ** 31 - 1 });
    const payload = new Uint8Array(2 ** 28).fill(0xab);
    const message: HubMessage = { type: MessageType.StreamItem, invocationId: "1", item: payload };
    const ourBytes = big.write(message);
    expect([...ourBytes.subarray(0, 5)].every((byte, i) => (i < 4 ? byte >= 0x80 : byte < 0x80))).toBe(true);
    const theirs = officialParse(ourBytes)[0] as { item: Uint8Array };
    expect(theirs.item.length).toBe(payload.length);
    const ours2 = big.parse(officialWrite(message))[0] as { item: Uint8Array };
    expect(ours2.item.length).toBe(payload.length);
    expect(ours2.item[payload.length - 1]).toBe(0xab);
  });
});

describe("MessagePackHubProtocol.parse with bad input", () => {
  const cases: Array<[string, Uint8Array, string]> = [
    ["a truncated record", Uint8Array.of(0x05, 0x93, 0x01), ErrorCode.IncompleteMessage],
    ["a truncated value inside a whole record", Uint8Array.of(0x02, 0x92, 0x01), ErrorCode.MalformedMessage],
    ["a bogus length prefix FF FF FF FF FF", Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff), ErrorCode.InvalidLengthPrefix],
    ["a 2^32-element array header", Uint8Array.of(0x06, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x06), ErrorCode.MalformedMessage],
    ["a string length past the record", Uint8Array.of(0x04, 0xdb, 0xff, 0xff, 0xff), ErrorCode.MalformedMessage],
    ["an empty record", Uint8Array.of(0x00), ErrorCode.MalformedMessage],
    ["a record that is not an array", record({ type: 1 }), ErrorCode.InvalidMessage],
    ["an empty array", record([]), ErrorCode.InvalidMessage],
    ["a type that is a string", record(["1", {}, "1", "t", []]), ErrorCode.InvalidMessage],
    ["an Invocation with 4 elements", record([1, {}, "1", "t"]), ErrorCode.InvalidMessage],
    ["an Invocation whose target is a number", record([1, {}, "1", 5, []]), ErrorCode.InvalidMessage],
    ["an Invocation whose arguments are a map", record([1, {}, "1", "t", {}]), ErrorCode.InvalidMessage],
    ["headers that are an array", record([1, ["a"], "1", "t", []]), ErrorCode.InvalidMessage],
    ["headers with a binary value", record([1, { a: Uint8Array.of(1) }, "1", "t", []]), ErrorCode.InvalidMessage],
    ["an unknown Completion result kind", record([3, {}, "1", 9, 1]), ErrorCode.InvalidMessage],
    ["a Completion error that is not a string", record([3, {}, "1", 1, 5]), ErrorCode.InvalidMessage],
    ["a Completion of kind 3 without its result", record([3, {}, "1", 3]), ErrorCode.InvalidMessage],
    ["a __proto__ key", Uint8Array.of(0x0e, 0x92, 0x02, 0x81, 0xa9, ...new TextEncoder().encode("__proto__"), 0x01), ErrorCode.ForbiddenKey],
    ["the unused byte 0xC1", Uint8Array.of(0x02, 0x91, 0xc1), ErrorCode.MalformedMessage],
    // '{' reads as a length prefix of 123 bytes, so JSON looks like the start of a long record.
    ["JSON text on the MessagePack protocol", new TextEncoder().encode('{"type":6}\u001e'), ErrorCode.IncompleteMessage],
  ];
  for (const [name, input, code] of cases) {
    it(`refuses ${name} with ${code}`, () => {
      expect(() => ours.parse(input)).toThrow(expect.objectContaining({ name: "ProtocolError", code }));
    });
  }

  it("refuses 32 KB of nested 0x91 as too deep, without a stack overflow", () => {
    const nested = new Uint8Array(32 * 1024 - 4).fill(0x91);
    const protocol = new MessagePackHubProtocol({ maxMessageBytes: 64 * 1024 });
    expect(() => protocol.parse(writeBinaryRecord(nested))).toThrow(expect.objectContaining({ code: ErrorCode.NestingTooDeep }));
  });

  /** A value nested `levels` containers deep. */
  const nested = (levels: number): unknown => (levels === 0 ? 1 : [nested(levels - 1)]);
  /** `{ "__proto__": 1 }` as MessagePack (encode() would never write it: it is no own key of a literal). */
  const protoMap = Uint8Array.of(0x81, 0xa9, ...new TextEncoder().encode("__proto__"), 0x01);

  it("refuses a payload nested past maxDepth as that call's failure, naming it", () => {
    const protocol = new MessagePackHubProtocol({ maxDepth: 10 });
    // The message array is level 1 and its arguments level 2: 8 more fit, 9 do not.
    expect(protocol.parse(record([1, {}, "5", "t", [nested(8)]]))).toHaveLength(1);
    expect(() => protocol.parse(record([1, {}, "5", "t", [nested(9)]]))).toThrow(
      expect.objectContaining({ code: ErrorCode.NestingTooDeep, envelope: { type: MessageType.Invocation, invocationId: "5", target: "t" } }),
    );
    expect(() => protocol.parse(record([1, {}, null, "t", [nested(9)]]))).toThrow(
      expect.objectContaining({ envelope: { type: MessageType.Invocation, invocationId: undefined, target: "t" } }),
    );
    expect(() => protocol.parse(record([2, {}, "s1", nested(10)]))).toThrow(
      expect.objectContaining({ envelope: { type: MessageType.StreamItem, invocationId: "s1", target: undefined } }),
    );
    // Too deep outside the payload: the connection's failure.
    expect(() => protocol.parse(record([1, { a: "b" }, "5", "t", [], [nested(9)]]))).toThrow(
      expect.objectContaining({ code: ErrorCode.NestingTooDeep, envelope: undefined }),
    );
  });

  it("refuses __proto__ in a payload as that call's failure, and in the headers outright", () => {
    const head = encode([4, {}, "9", "t"]).subarray(1);
    const invocation = (args: Uint8Array) => writeBinaryRecord(Uint8Array.of(0x95, ...head, ...args));
    expect(() => ours.parse(invocation(Uint8Array.of(0x91, ...protoMap)))).toThrow(
      expect.objectContaining({ code: ErrorCode.ForbiddenKey, envelope: { type: MessageType.StreamInvocation, invocationId: "9", target: "t" } }),
    );
    const inHeaders = writeBinaryRecord(Uint8Array.of(0x95, 0x01, ...protoMap, ...encode("9"), ...encode("t"), 0x90));
    expect(() => ours.parse(inHeaders)).toThrow(expect.objectContaining({ code: ErrorCode.ForbiddenKey, envelope: undefined }));
  });

  it("hands out the messages before a bad record, then its error, and reads on after a refused payload", () => {
    const protocol = new MessagePackHubProtocol({ maxDepth: 10 });
    const parser = protocol.createParser();
    const ping = ours.write({ type: MessageType.Ping });
    parser.feed(Uint8Array.of(...ping, ...record([1, {}, "5", "t", [nested(9)]]), ...ping, 0x02, 0x91, 0xc1, ...ping));
    expect(parser.next()).toEqual({ type: MessageType.Ping });
    expect(() => parser.next()).toThrow(expect.objectContaining({ code: ErrorCode.NestingTooDeep, envelope: expect.anything() }));
    expect(parser.next()).toEqual({ type: MessageType.Ping });
    expect(() => parser.next()).toThrow(expect.objectContaining({ code: ErrorCode.MalformedMessage, envelope: undefined }));
  });

  it("refuses thousands of nested headers that each claim 30,000 elements, before allocating them", () => {
    const claims: number[] = [];
    for (let i = 0; i < 6000; i++) claims.push(0xdc, 0x75, 0x30);
    const protocol = new MessagePackHubProtocol({ maxMessageBytes: 64 * 1024, maxDepth: 10_000 });
    expect(() => protocol.parse(writeBinaryRecord(Uint8Array.from(claims)))).toThrow(expect.objectContaining({ code: ErrorCode.MalformedMessage }));
  });

  it("refuses text input, which only a JSON connection carries", () => {
    expect(() => ours.parse('{"type":6}\u001e')).toThrow(expect.objectContaining({ code: ErrorCode.MalformedMessage }));
  });

  it("refuses a record one byte over the limit, whole, chunked, or third in a batch", () => {
    const protocol = new MessagePackHubProtocol({ maxMessageBytes: 64 });
    const item = (size: number) => ({ type: MessageType.StreamItem, invocationId: "1", item: "x".repeat(size) }) as const;
    const fits = ours.write(item(64 - 7));
    const over = ours.write(item(65 - 7));
    expect(fits.length - 1).toBe(64);
    expect(protocol.parse(fits)).toHaveLength(1);
    const tooLarge = expect.objectContaining({ code: ErrorCode.MessageTooLarge });
    expect(() => protocol.parse(over)).toThrow(tooLarge);
    const parser = protocol.createParser();
    expect(() => {
      for (const byte of over) parser.push(Uint8Array.of(byte));
    }).toThrow(tooLarge);
    expect(() => protocol.parse(Uint8Array.from([...fits, ...fits, ...over]))).toThrow(tooLarge);
  });

  it("skips unknown message types by default, and rejects them when asked", () => {
    const input = Uint8Array.from([...record([42, "future"]), 0x02, 0x91, 0x06]);
    expect(ours.parse(input)).toEqual([{ type: MessageType.Ping }]);
    const strict = new MessagePackHubProtocol({ unknownMessageTypes: "reject" });
    expect(() => strict.parse(input)).toThrow(expect.objectContaining({ code: ErrorCode.UnknownMessageType }));
  });

  it("reads unknown extension types as ExtData, without failing", () => {
    const [message] = ours.parse(writeBinaryRecord(Uint8Array.of(0x94, 0x02, 0x80, 0xa1, 0x31, 0xd4, 0x05, 0x07)));
    expect(message).toMatchObject({ type: 2, invocationId: "1", item: { type: 5, data: Uint8Array.of(7) } });
  });
});

describe("MessagePackHubProtocol.write", () => {
  it("refuses a result and an error together, and values nested past maxDepth", () => {
    expect(() => ours.write({ type: MessageType.Completion, invocationId: "1", result: 1, error: "e" })).toThrow(
      expect.objectContaining({ code: ErrorCode.UnencodableMessage }),
    );
    let deep: unknown = 1;
    for (let i = 0; i < 200; i++) deep = [deep];
    expect(() => ours.write({ type: MessageType.StreamItem, invocationId: "1", item: deep })).toThrow(
      expect.objectContaining({ code: ErrorCode.UnencodableMessage }),
    );
  });

  it("writes exactly the nesting it reads back (maxDepth containers, the message included)", () => {
    const protocol = new MessagePackHubProtocol({ maxDepth: 10 });
    const nested = (levels: number): unknown => (levels === 0 ? "leaf" : [nested(levels - 1)]);
    const fits = { type: MessageType.StreamItem, invocationId: "1", item: nested(9) } as const;
    expect(protocol.parse(protocol.write(fits))).toEqual([fits]);
    expect(() => protocol.write({ ...fits, item: nested(10) })).toThrow(expect.objectContaining({ code: ErrorCode.UnencodableMessage }));
  });
});
