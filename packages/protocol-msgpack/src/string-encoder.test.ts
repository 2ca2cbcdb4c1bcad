import { decode, Encoder } from "@msgpack/msgpack";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HubMessageEncoder } from "./string-encoder.js";

const library = new Encoder();
/** The string with each lone surrogate replaced by U+FFFD (ES2024; Node 20 has it, the compile target's lib not). */
const wellFormed = (text: string): string => (text as unknown as { toWellFormed(): string }).toWellFormed();
const ours = new HubMessageEncoder();

describe("HubMessageEncoder", () => {
  it("writes the same bytes as the library for strings around every header boundary", () => {
    const lengths = [0, 1, 10, 11, 31, 32, 63, 64, 85, 86, 255, 256, 21_845, 21_846, 65_535, 65_536, 70_000];
    for (const length of lengths) {
      for (const unit of ["a", "é", "€", "😀"]) {
        // Whole characters only: half of "😀" would be a lone surrogate (its own test below).
        const text = unit.repeat(Math.floor(length / unit.length));
        const value = [1, {}, "id", "echo", [text, { nested: text }]];
        expect(Buffer.from(ours.encode(value)).equals(Buffer.from(library.encode(value))), `${length} x ${unit}`).toBe(true);
      }
    }
  });

  it("writes the library's bytes for any well-formed string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (text) => {
        expect(Buffer.from(ours.encode(text)).equals(Buffer.from(library.encode(text)))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("writes a lone surrogate as U+FFFD, valid UTF-8 (the library wrote invalid bytes in short strings)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
        expect(decode(ours.encode([text]))).toEqual([wellFormed(text)]);
      }),
      { numRuns: 500 },
    );
    expect(decode(ours.encode("a\ud800b"))).toBe("a\ufffdb");
    expect(Buffer.from(ours.encode("\udc00"))).toEqual(Buffer.from([0xa3, 0xef, 0xbf, 0xbd]));
  });
});
