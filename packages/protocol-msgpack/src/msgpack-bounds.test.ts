import { ErrorCode } from "@hubwire/protocol";
import { encode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { checkMessagePackBounds } from "./msgpack-bounds.js";

const malformed = expect.objectContaining({ code: ErrorCode.MalformedMessage });

describe("checkMessagePackBounds", () => {
  it("passes every kind of well-formed value", () => {
    const value = [
      1,
      -1,
      300,
      -300,
      70_000,
      2 ** 40,
      -(2 ** 40),
      1.5,
      true,
      false,
      null,
      "s",
      "x".repeat(40),
      "y".repeat(300),
      "z".repeat(70_000),
      new Uint8Array(3),
      new Uint8Array(300),
      new Uint8Array(70_000),
      new Date(0),
      new Date(1e15),
      { a: 1 },
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
      Array.from({ length: 20 }, () => 0),
      Array.from({ length: 70_000 }, () => 0),
      [],
      {},
    ];
    expect(() => checkMessagePackBounds(encode(value), 100)).not.toThrow();
  });

  it("refuses a 2^32 - 1 element array header backed by a few bytes", () => {
    expect(() => checkMessagePackBounds(Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff, 0x00), 100)).toThrow(malformed);
  });

  it("refuses a map, string, binary or extension longer than the bytes left", () => {
    for (const bytes of [
      [0xdf, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01],
      [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61],
      [0xc6, 0x00, 0x01, 0x00, 0x00],
      [0xc9, 0x7f, 0xff, 0xff, 0xff, 0x01],
      [0xa5, 0x61],
      [0xcb, 0x00],
    ]) {
      expect(() => checkMessagePackBounds(Uint8Array.from(bytes), 100), bytes.join(",")).toThrow(malformed);
    }
  });

  it("refuses 32 KB of nested 0x91 as too deep", () => {
    const nested = new Uint8Array(32 * 1024).fill(0x91);
    nested[nested.length - 1] = 0x01;
    expect(() => checkMessagePackBounds(nested, 100)).toThrow(expect.objectContaining({ code: ErrorCode.NestingTooDeep }));
  });

  it("accepts nesting up to the limit", () => {
    const nested = new Uint8Array(101).fill(0x91);
    nested[100] = 0x01;
    expect(() => checkMessagePackBounds(nested, 100)).not.toThrow();
    expect(() => checkMessagePackBounds(nested, 99)).toThrow(expect.objectContaining({ code: ErrorCode.NestingTooDeep }));
  });

  it("refuses the unused byte 0xC1, trailing bytes and empty input", () => {
    expect(() => checkMessagePackBounds(Uint8Array.of(0xc1), 100)).toThrow(malformed);
    expect(() => checkMessagePackBounds(Uint8Array.of(0x01, 0x02), 100)).toThrow(malformed);
    expect(() => checkMessagePackBounds(new Uint8Array(0), 100)).toThrow(malformed);
  });
});
