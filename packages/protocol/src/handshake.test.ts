import { describe, expect, it } from "vitest";
import { ErrorCode } from "./error-codes.js";
import { HandshakeReader, parseHandshakeRequest, parseHandshakeResponse, writeHandshakeRequest, writeHandshakeResponse } from "./handshake.js";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("handshake codec", () => {
  it("writes the request the official clients send, for versions 1 and 2", () => {
    expect(writeHandshakeRequest({ protocol: "json", version: 1 })).toBe('{"protocol":"json","version":1}\u001e');
    expect(writeHandshakeRequest({ protocol: "messagepack", version: 2 })).toBe('{"protocol":"messagepack","version":2}\u001e');
  });

  it("reads a request and ignores extra fields", () => {
    expect(parseHandshakeRequest('{"version":2,"protocol":"messagepack","extra":true}')).toEqual({
      protocol: "messagepack",
      version: 2,
    });
  });

  it("refuses requests that are not {protocol, version}", () => {
    for (const bad of ["", "nope", "[]", "null", '{"protocol":1,"version":1}', '{"protocol":"json"}', '{"protocol":"json","version":1.5}']) {
      expect(() => parseHandshakeRequest(bad), bad).toThrow(expect.objectContaining({ code: ErrorCode.InvalidHandshake }));
    }
  });

  it("writes {} for success and {error} for failure", () => {
    expect(writeHandshakeResponse({})).toBe("{}\u001e");
    expect(writeHandshakeResponse({ error: "The protocol 'xml' is not supported." })).toBe('{"error":"The protocol \'xml\' is not supported."}\u001e');
  });

  it("reads responses, and refuses a hub message in place of one", () => {
    expect(parseHandshakeResponse("{}")).toEqual({});
    expect(parseHandshakeResponse('{"error":"no","minorVersion":0}')).toEqual({ error: "no", minorVersion: 0 });
    expect(() => parseHandshakeResponse('{"type":6}')).toThrow(expect.objectContaining({ code: ErrorCode.InvalidHandshake }));
    expect(() => parseHandshakeResponse('{"error":5}')).toThrow(expect.objectContaining({ code: ErrorCode.InvalidHandshake }));
  });
});

describe("HandshakeReader", () => {
  it("waits for the separator, then returns the handshake and the bytes after it", () => {
    const reader = new HandshakeReader();
    expect(reader.push('{"protocol":"js')).toBeUndefined();
    const record = reader.push(new TextEncoder().encode('on","version":1}\u001e{"type":6}\u001e'));
    expect(record?.handshake).toBe('{"protocol":"json","version":1}');
    expect(text(record!.remaining)).toBe('{"type":6}\u001e');
  });

  it("returns binary bytes after the handshake untouched", () => {
    const input = new Uint8Array([...new TextEncoder().encode("{}\u001e"), 0x02, 0x91, 0x06]);
    expect([...new HandshakeReader().push(input)!.remaining]).toEqual([0x02, 0x91, 0x06]);
  });

  it("refuses a handshake longer than its limit, even without a separator", () => {
    const reader = new HandshakeReader({ maxHandshakeBytes: 16 });
    reader.push("x".repeat(10));
    expect(() => reader.push("x".repeat(10))).toThrow(expect.objectContaining({ code: ErrorCode.MessageTooLarge }));
  });

  it("refuses a handshake that is not UTF-8", () => {
    expect(() => new HandshakeReader().push(Uint8Array.of(0xff, 0x1e))).toThrow(expect.objectContaining({ code: ErrorCode.InvalidUtf8 }));
  });
});
