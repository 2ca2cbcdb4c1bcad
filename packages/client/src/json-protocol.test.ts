import { MessageType } from "@hubwire/protocol";
import { describe, expect, it } from "vitest";
import { JsonClientProtocol } from "./json-protocol.js";

const RS = "\u001e";

describe("the client's JSON protocol", () => {
  const protocol = new JsonClientProtocol();

  it("reads records split across chunks, from text and from bytes", () => {
    const parser = protocol.createParser();
    expect(parser.push(`{"type":1,"target":"a","arguments":[1]}${RS}{"type":3,"invoc`)).toEqual([{ type: 1, target: "a", arguments: [1] }]);
    expect(parser.bufferedBytes).toBeGreaterThan(0);
    expect(parser.push(new TextEncoder().encode(`ationId":"7","result":"é"}${RS}`))).toEqual([{ type: 3, invocationId: "7", result: "é" }]);
    expect(parser.bufferedBytes).toBe(0);
  });

  it("writes bytes as base64 and dates as ISO 8601, as System.Text.Json reads byte[] and DateTime", () => {
    const bytes = Uint8Array.of(0, 1, 250, 255);
    const record = protocol.write({
      type: MessageType.Invocation,
      target: "t",
      arguments: [bytes, Buffer.from("hi"), { at: new Date(Date.UTC(2026, 11, 3)), raw: bytes.buffer }],
    });
    expect(JSON.parse(record.slice(0, -1)).arguments).toEqual(["AAH6/w==", "aGk=", { at: "2026-12-03T00:00:00.000Z", raw: "AAH6/w==" }]);
  });

  it("reads a record of any size", () => {
    const text = "x".repeat(1_000_000);
    expect(protocol.createParser().push(`{"type":2,"invocationId":"1","item":"${text}"}${RS}`)).toEqual([{ type: 2, invocationId: "1", item: text }]);
  });

  it("passes over Ping, the types a server does not send to clients, and types newer than it knows", () => {
    const records = [`{"type":6}`, `{"type":4,"invocationId":"1","target":"t","arguments":[]}`, `{"type":5,"invocationId":"1"}`, `{"type":99,"x":1}`];
    expect(protocol.createParser().push(records.join(RS) + RS)).toEqual([]);
  });

  it("reads Close, Ack and Sequence, and null where a JSON server leaves a field empty", () => {
    const records = [
      `{"type":7,"error":"bye","allowReconnect":true}`,
      `{"type":8,"sequenceId":3}`,
      `{"type":9,"sequenceId":0}`,
      `{"type":3,"invocationId":"1","error":null,"result":null}`,
    ];
    expect(protocol.createParser().push(records.join(RS) + RS)).toEqual([
      { type: 7, error: "bye", allowReconnect: true },
      { type: 8, sequenceId: 3 },
      { type: 9, sequenceId: 0 },
      { type: 3, invocationId: "1", error: null, result: null },
    ]);
  });

  it.each([
    ["not JSON", `{"type":1,`, /malformed message: \{"type":1,/],
    ["not an object", `[1,2]`, /malformed message: \[1,2\]/],
    ["null", `null`, /malformed/],
    ["no type", `{"target":"a"}`, /malformed/],
    ["a fractional type", `{"type":1.5}`, /malformed/],
    ["an Invocation without a target", `{"type":1,"arguments":[]}`, /malformed/],
    ["an Invocation whose arguments are not an array", `{"type":1,"target":"a","arguments":{}}`, /malformed/],
    ["an Invocation with a numeric invocationId", `{"type":1,"target":"a","arguments":[],"invocationId":1}`, /malformed/],
    ["a StreamItem without an invocationId", `{"type":2,"item":1}`, /malformed/],
    ["a Completion whose error is not a string", `{"type":3,"invocationId":"1","error":{}}`, /malformed/],
    ["a Close whose allowReconnect is not a boolean", `{"type":7,"allowReconnect":"yes"}`, /malformed/],
    ["a Sequence with a negative id", `{"type":9,"sequenceId":-1}`, /malformed/],
    ["an Ack with a string id", `{"type":8,"sequenceId":"1"}`, /malformed/],
  ])("refuses %s with a clear error", (_what, record, error) => {
    expect(() => protocol.createParser().push(record + RS)).toThrow(error);
  });

  it("writes one record per message, leaving absent fields out", () => {
    expect(protocol.write({ type: MessageType.Invocation, invocationId: undefined, target: "send", arguments: ["hi"], streamIds: undefined })).toBe(
      `{"type":1,"target":"send","arguments":["hi"]}${RS}`,
    );
    expect(protocol.write({ type: MessageType.Completion, invocationId: "2", result: undefined, error: "no" })).toBe(
      `{"type":3,"invocationId":"2","error":"no"}${RS}`,
    );
    expect(protocol.write({ type: MessageType.Ping })).toBe(`{"type":6}${RS}`);
  });
});
