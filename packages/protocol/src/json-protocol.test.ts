import { normalizeMessage } from "@hubwire/test-support";
import { NullLogger, type HubMessage as OfficialHubMessage, JsonHubProtocol as OfficialJsonHubProtocol } from "@microsoft/signalr";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "./error-codes.js";
import { JsonHubProtocol } from "./json-protocol.js";
import { type HubMessage, MessageType } from "./messages.js";

const ours = new JsonHubProtocol();
const official = new OfficialJsonHubProtocol();
const asOfficial = (message: HubMessage) => message as unknown as OfficialHubMessage;

const edgeValues: Record<string, unknown> = {
  zero: 0,
  false: false,
  "empty string": "",
  null: null,
  "nested objects": { a: { b: [1, { c: "d" }], e: null }, f: [] },
  unicode: "héllo € 😀 \u2028 \u0000 \u001e inside a string",
  "large number": Number.MAX_SAFE_INTEGER,
  "negative float": -1.5e-300,
};

/** Messages of every type the official JSON parser reads (it skips 4 and 5, which clients never receive). */
function messagesOfficialReads(value: unknown): HubMessage[] {
  return [
    { type: MessageType.Invocation, invocationId: "1", target: "Receive", arguments: [value, value] },
    { type: MessageType.Invocation, target: "Receive", arguments: [] },
    { type: MessageType.Invocation, invocationId: "2", target: "Upload", arguments: [value], streamIds: ["3", "4"], headers: { a: "b", "": "empty key" } },
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

describe("JsonHubProtocol writing the Completion or StreamItem of a plain value", () => {
  it("writes exactly what the official protocol writes, for every kind of plain result or item and id", () => {
    const results: unknown[] = [
      "",
      "plain",
      'quote " backslash \\ \u0000 \u001e \u2028 😀 \ud800',
      0,
      -0,
      1.5e300,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      true,
      false,
      null,
    ];
    for (const invocationId of ["1", 'id "with" quotes', "é"]) {
      for (const result of results) {
        const message: HubMessage = { type: MessageType.Completion, invocationId, result };
        expect(ours.write(message)).toBe(official.writeMessage(asOfficial(message)));
        const item: HubMessage = { type: MessageType.StreamItem, invocationId, item: result };
        expect(ours.write(item)).toBe(official.writeMessage(asOfficial(item)));
      }
    }
  });

  it("leaves a result with headers, an error or no result to the general path", () => {
    expect(ours.write({ type: MessageType.Completion, invocationId: "1", result: "a", headers: { k: "v" } })).toBe(
      `{"type":3,"headers":{"k":"v"},"invocationId":"1","result":"a"}\u001e`,
    );
    expect(() => ours.write({ type: MessageType.Completion, invocationId: "1", result: "a", error: "e" })).toThrow();
    expect(ours.write({ type: MessageType.Completion, invocationId: "1" })).toBe(`{"type":3,"invocationId":"1"}\u001e`);
  });

  it("leaves an item with headers, or one that is not a plain value, to the general path", () => {
    expect(ours.write({ type: MessageType.StreamItem, invocationId: "1", item: "a", headers: { k: "v" } })).toBe(
      `{"type":2,"headers":{"k":"v"},"invocationId":"1","item":"a"}\u001e`,
    );
    expect(ours.write({ type: MessageType.StreamItem, invocationId: "1", item: { a: [1] } })).toBe(`{"type":2,"invocationId":"1","item":{"a":[1]}}\u001e`);
    expect(ours.write({ type: MessageType.StreamItem, invocationId: "1", item: new Uint8Array([1, 2]) })).toBe(
      `{"type":2,"invocationId":"1","item":"AQI="}\u001e`,
    );
  });
});

describe("JsonHubProtocol against the official @microsoft/signalr JsonHubProtocol", () => {
  for (const [name, value] of Object.entries(edgeValues)) {
    it(`what we write, it reads as the same message (${name})`, () => {
      for (const message of messagesOfficialReads(value)) {
        const parsed = official.parseMessages(ours.write(message), NullLogger.instance);
        expect(parsed.map(normalizeMessage)).toEqual([normalizeMessage(message)]);
      }
    });

    it(`what it writes, we read as the same message (${name})`, () => {
      const all: HubMessage[] = [
        ...messagesOfficialReads(value),
        { type: MessageType.StreamInvocation, invocationId: "5", target: "Counter", arguments: [value], streamIds: ["6"] },
        { type: MessageType.CancelInvocation, invocationId: "5", headers: { x: "y" } },
      ];
      for (const message of all) {
        expect(ours.parse(official.writeMessage(asOfficial(message))).map(normalizeMessage)).toEqual([normalizeMessage(message)]);
      }
    });
  }

  it("reads a batch of records the official client wrote into one frame", () => {
    const batch = messagesOfficialReads(1)
      .map((message) => official.writeMessage(asOfficial(message)))
      .join("");
    expect(ours.parse(batch).map(normalizeMessage)).toEqual(messagesOfficialReads(1).map(normalizeMessage));
  });

  it("reads fields in any order, as .NET and the official client may write them", () => {
    expect(ours.parse('{"arguments":[1],"target":"a","type":1}\u001e')).toEqual([{ type: 1, target: "a", arguments: [1] }]);
  });
});

describe("JsonHubProtocol.write", () => {
  it("leaves out properties that are not part of the message", () => {
    const message = { type: MessageType.Ping, secret: "x" } as HubMessage;
    expect(ours.write(message)).toBe('{"type":6}\u001e');
  });

  it("refuses a result and an error together", () => {
    expect(() => ours.write({ type: MessageType.Completion, invocationId: "1", result: 1, error: "e" })).toThrow(
      expect.objectContaining({ code: ErrorCode.UnencodableMessage }),
    );
  });

  it("reports values JSON cannot carry with a typed error", () => {
    const throwing = {
      toJSON: () => {
        throw new Error("no");
      },
    };
    for (const value of [10n, throwing]) {
      expect(() => ours.write({ type: MessageType.StreamItem, invocationId: "1", item: value })).toThrow(
        expect.objectContaining({ code: ErrorCode.UnencodableMessage }),
      );
    }
  });

  it("refuses a payload nested past the limit or looping back on itself, naming the call", () => {
    const cycle: Record<string, unknown> = {};
    cycle["self"] = cycle;
    // The Completion is level 1, so the result may nest 63 levels: 63 arrays fit, 64 do not.
    const nested = (levels: number): unknown => (levels === 0 ? 1 : [nested(levels - 1)]);
    expect(ours.write({ type: MessageType.Completion, invocationId: "7", result: nested(63) })).toContain('"result":[[');
    for (const result of [cycle, nested(64)]) {
      expect(() => ours.write({ type: MessageType.Completion, invocationId: "7", result })).toThrow(
        expect.objectContaining({ code: ErrorCode.NestingTooDeep, envelope: { type: MessageType.Completion, invocationId: "7", target: undefined } }),
      );
    }
    expect(() => ours.write({ type: MessageType.Invocation, target: "t", arguments: [JSON.parse('{"__proto__":{}}')] })).toThrow(
      expect.objectContaining({ code: ErrorCode.ForbiddenKey }),
    );
  });

  it("writes bytes as base64 and dates as ISO 8601, as System.Text.Json writes byte[] and DateTime", () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const record = ours.write({
      type: MessageType.Invocation,
      target: "t",
      arguments: [bytes, Buffer.from("hi"), { at: new Date(Date.UTC(2026, 11, 3, 8, 0, 0)), nested: [bytes.subarray(3)] }, bytes.buffer],
    });
    expect(JSON.parse(record.slice(0, -1)).arguments).toEqual(["AAEC+v8=", "aGk=", { at: "2026-12-03T08:00:00.000Z", nested: ["+v8="] }, "AAEC+v8="]);
    const large = new Uint8Array(100_000).map((_, index) => index % 256);
    const [message] = new JsonHubProtocol({ maxMessageBytes: 200_000 }).parse(ours.write({ type: MessageType.StreamItem, invocationId: "1", item: large }));
    expect(message).toEqual({ type: MessageType.StreamItem, invocationId: "1", item: Buffer.from(large).toString("base64") });
  });
});

describe("JsonHubProtocol.parse with bad input", () => {
  const cases: Array<[string, string, string]> = [
    ["malformed JSON", "{nope}\u001e", ErrorCode.MalformedMessage],
    ["an empty record", "\u001e", ErrorCode.MalformedMessage],
    ["a JSON value that is not an object", "[1]\u001e", ErrorCode.InvalidMessage],
    ["no type", '{"target":"a"}\u001e', ErrorCode.InvalidMessage],
    ["a string type", '{"type":"1"}\u001e', ErrorCode.InvalidMessage],
    ["a fractional type", '{"type":1.5}\u001e', ErrorCode.InvalidMessage],
    ["a target that is not a string", '{"type":1,"target":5,"arguments":[]}\u001e', ErrorCode.InvalidMessage],
    ["arguments that are not an array", '{"type":1,"target":"a","arguments":{}}\u001e', ErrorCode.InvalidMessage],
    ["no arguments", '{"type":1,"target":"a"}\u001e', ErrorCode.InvalidMessage],
    ["a numeric invocation id", '{"type":1,"invocationId":1,"target":"a","arguments":[]}\u001e', ErrorCode.InvalidMessage],
    ["stream ids that are not strings", '{"type":1,"target":"a","arguments":[],"streamIds":[1]}\u001e', ErrorCode.InvalidMessage],
    ["headers with a number value", '{"type":1,"target":"a","arguments":[],"headers":{"a":1}}\u001e', ErrorCode.InvalidMessage],
    ["headers that are an array", '{"type":1,"target":"a","arguments":[],"headers":["a"]}\u001e', ErrorCode.InvalidMessage],
    ["a StreamInvocation without id", '{"type":4,"target":"a","arguments":[]}\u001e', ErrorCode.InvalidMessage],
    ["a result and an error together", '{"type":3,"invocationId":"1","result":1,"error":"e"}\u001e', ErrorCode.InvalidMessage],
    ["a null result with an error", '{"type":3,"invocationId":"1","result":null,"error":"e"}\u001e', ErrorCode.InvalidMessage],
    ["an error that is not a string", '{"type":3,"invocationId":"1","error":{}}\u001e', ErrorCode.InvalidMessage],
    ["allowReconnect that is not a boolean", '{"type":7,"allowReconnect":"yes"}\u001e', ErrorCode.InvalidMessage],
    ["a negative sequence id", '{"type":8,"sequenceId":-1}\u001e', ErrorCode.InvalidMessage],
    ["a missing record separator", '{"type":6}', ErrorCode.IncompleteMessage],
    ["a __proto__ key in arguments", '{"type":1,"target":"a","arguments":[{"__proto__":{"polluted":1}}]}\u001e', ErrorCode.ForbiddenKey],
    ["a __proto__ header", '{"type":1,"target":"a","arguments":[],"headers":{"__proto__":"x"}}\u001e', ErrorCode.ForbiddenKey],
  ];
  for (const [name, input, code] of cases) {
    it(`refuses ${name} with ${code}`, () => {
      expect(() => ours.parse(input)).toThrow(expect.objectContaining({ name: "ProtocolError", code }));
    });
  }

  it("accepts '__proto__' as a string value, which is harmless", () => {
    expect(ours.parse('{"type":1,"target":"__proto__","arguments":["__proto__"]}\u001e')).toHaveLength(1);
  });

  it("never pollutes a prototype", () => {
    expect(() => ours.parse('{"type":1,"target":"a","arguments":[],"__proto__":{"polluted":true}}\u001e')).toThrow();
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("skips unknown message types by default, and rejects them when asked", () => {
    expect(ours.parse('{"type":42,"future":true}\u001e{"type":6}\u001e')).toEqual([{ type: MessageType.Ping }]);
    const strict = new JsonHubProtocol({ unknownMessageTypes: "reject" });
    expect(() => strict.parse('{"type":42}\u001e')).toThrow(expect.objectContaining({ code: ErrorCode.UnknownMessageType }));
  });

  it("reads 30,000-deep nesting without a stack overflow, and refuses it past the limit naming the call", () => {
    const deep = `${"[".repeat(30_000)}${"]".repeat(30_000)}`;
    const record = `{"type":2,"invocationId":"1","item":${deep}}\u001e`;
    const [message] = new JsonHubProtocol({ maxMessageBytes: 100_000, maxDepth: 40_000 }).parse(record);
    expect(message?.type).toBe(MessageType.StreamItem);
    expect(() => new JsonHubProtocol({ maxMessageBytes: 100_000 }).parse(record)).toThrow(
      expect.objectContaining({ code: ErrorCode.NestingTooDeep, envelope: { type: MessageType.StreamItem, invocationId: "1", target: undefined } }),
    );
  });

  it("allows 64 levels, the message included, and refuses 65 in an Invocation's arguments as that call's failure", () => {
    // The Invocation is level 1 and its arguments array level 2: 62 more arrays make 64.
    const args = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
    expect(ours.parse(`{"type":1,"invocationId":"4","target":"t","arguments":[${args(62)}]}\u001e`)).toHaveLength(1);
    expect(() => ours.parse(`{"type":1,"invocationId":"4","target":"t","arguments":[${args(63)}]}\u001e`)).toThrow(
      expect.objectContaining({ code: ErrorCode.NestingTooDeep, envelope: { type: MessageType.Invocation, invocationId: "4", target: "t" } }),
    );
  });

  it("refuses __proto__ in a payload as that call's failure, and in the message or its headers outright", () => {
    const inArgs = '{"type":1,"invocationId":"2","target":"t","arguments":[{"a":{"__proto__":{"x":1}}}]}\u001e';
    expect(() => ours.parse(inArgs)).toThrow(
      expect.objectContaining({ code: ErrorCode.ForbiddenKey, envelope: { type: MessageType.Invocation, invocationId: "2", target: "t" } }),
    );
    for (const record of ['{"type":6,"__proto__":{}}\u001e', '{"type":1,"target":"t","arguments":[],"headers":{"__proto__":"x"}}\u001e']) {
      expect(() => ours.parse(record)).toThrow(expect.objectContaining({ code: ErrorCode.ForbiddenKey, envelope: undefined }));
    }
  });

  it("hands out the messages before a bad record, then its error, and reads on after a refused payload", () => {
    const parser = ours.createParser();
    parser.feed('{"type":6}\u001e{"type":1,"invocationId":"2","target":"t","arguments":[{"__proto__":1}]}\u001e{"type":6}\u001e{nope}\u001e{"type":6}\u001e');
    expect(parser.next()).toEqual({ type: MessageType.Ping });
    expect(() => parser.next()).toThrow(expect.objectContaining({ code: ErrorCode.ForbiddenKey, envelope: expect.anything() }));
    expect(parser.next()).toEqual({ type: MessageType.Ping });
    expect(() => parser.next()).toThrow(expect.objectContaining({ code: ErrorCode.MalformedMessage, envelope: undefined }));
  });

  it("hands out the records before one over the size limit before refusing it", () => {
    const parser = new JsonHubProtocol({ maxMessageBytes: 16 }).createParser();
    parser.feed(`{"type":6}\u001e{"type":2,"invocationId":"1","item":"${"x".repeat(40)}"}\u001e{"type":6}\u001e`);
    expect(parser.next()).toEqual({ type: MessageType.Ping });
    expect(() => parser.next()).toThrow(expect.objectContaining({ code: ErrorCode.MessageTooLarge }));
  });

  it("refuses a record one byte over the limit, whole, chunked, or third in a batch", () => {
    const protocol = new JsonHubProtocol({ maxMessageBytes: 64 });
    const fits = `{"type":2,"invocationId":"1","item":"${"x".repeat(64 - 39)}"}`;
    const over = `{"type":2,"invocationId":"1","item":"${"x".repeat(65 - 39)}"}`;
    expect(fits).toHaveLength(64);
    expect(protocol.parse(`${fits}\u001e`)).toHaveLength(1);
    const tooLarge = expect.objectContaining({ code: ErrorCode.MessageTooLarge });
    expect(() => protocol.parse(`${over}\u001e`)).toThrow(tooLarge);
    const parser = protocol.createParser();
    expect(() => {
      for (const char of over) parser.push(char);
    }).toThrow(tooLarge);
    expect(() => protocol.parse(`${fits}\u001e${fits}\u001e${over}\u001e`)).toThrow(tooLarge);
  });
});
