import { describe, expect, it } from "vitest";
import { ErrorCode } from "./error-codes.js";
import { TextRecordReader, utf8ByteLength } from "./text-framing.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("TextRecordReader", () => {
  it("returns every record of a chunk that holds several", () => {
    expect(new TextRecordReader().push('{"type":6}\u001e{"type":7}\u001e')).toEqual(['{"type":6}', '{"type":7}']);
  });

  it("joins a record split across chunks, in strings and in bytes", () => {
    for (const asBytes of [false, true]) {
      const reader = new TextRecordReader();
      const feed = (text: string) => reader.push(asBytes ? bytes(text) : text);
      expect(feed('{"ty')).toEqual([]);
      expect(reader.bufferedBytes).toBe(4);
      expect(feed('pe":6}\u001e{"type"')).toEqual(['{"type":6}']);
      expect(feed(":7}\u001e")).toEqual(['{"type":7}']);
      expect(reader.bufferedBytes).toBe(0);
    }
  });

  it("joins a multi-byte character split between two byte chunks", () => {
    const reader = new TextRecordReader();
    const encoded = bytes('"é€😀"\u001e');
    const records = [...encoded].flatMap((byte) => reader.push(Uint8Array.of(byte)));
    expect(records).toEqual(['"é€😀"']);
  });

  it("accepts a chunk of text after a chunk of bytes and the reverse", () => {
    const reader = new TextRecordReader();
    expect(reader.push(bytes('{"a":'))).toEqual([]);
    expect(reader.push('"€"}\u001e{"b"')).toEqual(['{"a":"€"}']);
    expect(reader.push(bytes(":1}\u001e"))).toEqual(['{"b":1}']);
  });

  it("copies held bytes, so the caller may reuse its buffer", () => {
    const reader = new TextRecordReader();
    const buffer = bytes('{"a":1');
    reader.push(buffer);
    buffer.fill(0x20);
    expect(reader.push(bytes("}\u001e"))).toEqual(['{"a":1}']);
  });

  it("accepts a record of exactly the limit and refuses one byte more", () => {
    const reader = new TextRecordReader({ maxMessageBytes: 10 });
    expect(reader.push(`${"x".repeat(10)}\u001e`)).toEqual(["x".repeat(10)]);
    expect(() => reader.push(bytes(`${"x".repeat(11)}\u001e`))).toThrow(expect.objectContaining({ code: ErrorCode.MessageTooLarge }));
  });

  it("counts the limit in UTF-8 bytes for string input too", () => {
    const reader = new TextRecordReader({ maxMessageBytes: 10 });
    expect(() => reader.push(`${"€".repeat(4)}\u001e`)).toThrow(expect.objectContaining({ code: ErrorCode.MessageTooLarge }));
  });

  it("refuses an unfinished record as soon as it passes the limit, before its separator", () => {
    for (const asBytes of [false, true]) {
      const reader = new TextRecordReader({ maxMessageBytes: 8 });
      reader.push(asBytes ? bytes("xxxxx") : "xxxxx");
      expect(() => reader.push(asBytes ? bytes("xxxx") : "xxxx")).toThrow(expect.objectContaining({ code: ErrorCode.MessageTooLarge }));
    }
  });

  it("refuses invalid UTF-8 with a typed error", () => {
    expect(() => new TextRecordReader().push(Uint8Array.of(0x22, 0xc3, 0x28, 0x22, 0x1e))).toThrow(expect.objectContaining({ code: ErrorCode.InvalidUtf8 }));
  });
});

describe("utf8ByteLength", () => {
  it("agrees with TextEncoder, lone surrogates included", () => {
    for (const text of ["", "abc", "é", "€", "😀", "a😀b", "\ud800", "\udc00x", "\ud800\ud800"]) {
      expect(utf8ByteLength(text)).toBe(bytes(text).length);
    }
  });
});
