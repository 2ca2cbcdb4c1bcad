import { decode, Encoder } from "@msgpack/msgpack";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HubMessageEncoder, LONG_STRING_UNITS } from "./string-encoder.js";

const library = new Encoder();
const ours = new HubMessageEncoder();

describe("HubMessageEncoder", () => {
  it("writes the same bytes as the library for strings around every header boundary", () => {
    const lengths = [0, 1, 31, 32, LONG_STRING_UNITS - 1, LONG_STRING_UNITS, 85, 86, 255, 256, 21_845, 21_846, 65_535, 65_536, 70_000];
    for (const length of lengths) {
      for (const unit of ["a", "é", "€", "😀"]) {
        const text = unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
        const value = [1, {}, "id", "echo", [text, { nested: text }]];
        expect(Buffer.from(ours.encode(value)).equals(Buffer.from(library.encode(value))), `${length} x ${unit}`).toBe(true);
      }
    }
  });

  it("round-trips any string, lone surrogates included (as the library does)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", minLength: 0, maxLength: 400 }), (text) => {
        expect(Buffer.from(ours.encode(text)).equals(Buffer.from(library.encode(text)))).toBe(true);
        expect(decode(ours.encode([text]))).toEqual(decode(library.encode([text])));
      }),
      { numRuns: 500 },
    );
  });
});
