/**
 * The property-based suite every hub protocol must pass (fast-check): it reads back what it
 * writes, reads the same messages however a batch is split, and answers arbitrary or mutated
 * input with messages or a ProtocolError, never anything else. Run once per protocol.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { arbitraryHubMessage } from "./arbitrary-messages.js";
import { normalizeMessage } from "./normalize-message.js";

/** The part of a HubProtocol this suite drives (structural, so test-support depends on no package). */
export interface ProtocolUnderTest {
  parse(input: string | Uint8Array): unknown[];
  write(message: never): string | Uint8Array;
  createParser(): { push(chunk: string | Uint8Array): unknown[]; readonly bufferedBytes: number };
}

const toBytes = (written: string | Uint8Array) => (typeof written === "string" ? new TextEncoder().encode(written) : written);

export function protocolProperties(name: string, protocol: ProtocolUnderTest, value: fc.Arbitrary<unknown>, extraInputs: fc.Arbitrary<string>[] = []): void {
  const write = (message: Record<string, unknown>) => toBytes(protocol.write(message as never));
  const parseOrProtocolError = (input: string | Uint8Array): void => {
    try {
      protocol.parse(input);
    } catch (error) {
      if ((error as { name?: unknown }).name !== "ProtocolError") throw error;
    }
  };

  describe(`${name}, property-based`, () => {
    it("reads back every valid message it writes", () => {
      fc.assert(
        fc.property(arbitraryHubMessage(value), (message) => {
          expect(protocol.parse(write(message)).map(normalizeMessage)).toEqual([normalizeMessage(message)]);
        }),
        { numRuns: 500 },
      );
    });

    it("reads the same messages however a batch is split into chunks", () => {
      fc.assert(
        fc.property(fc.array(arbitraryHubMessage(value), { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (messages, cuts) => {
          const bytes = Uint8Array.from(messages.flatMap((message) => [...write(message)]));
          const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
          const parser = protocol.createParser();
          const parsed: unknown[] = [];
          let start = 0;
          for (const point of [...points, bytes.length]) {
            parsed.push(...parser.push(bytes.subarray(start, point)));
            start = point;
          }
          expect(parsed.map(normalizeMessage)).toEqual(messages.map(normalizeMessage));
          expect(parser.bufferedBytes).toBe(0);
        }),
        { numRuns: 300 },
      );
    });

    it("answers arbitrary input with messages or a ProtocolError, nothing else", () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), parseOrProtocolError), { numRuns: 2000 });
      // Arbitrary bytes behind a plausible one-byte length (binary framing) or separator (text framing).
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 1, maxLength: 120 }), (body) => {
          parseOrProtocolError(Uint8Array.of(body.length, ...body));
          parseOrProtocolError(Uint8Array.of(...body, 0x1e));
        }),
        { numRuns: 2000 },
      );
      for (const input of extraInputs) fc.assert(fc.property(input, parseOrProtocolError), { numRuns: 1000 });
    });

    it("answers mutated valid records with messages or a ProtocolError, nothing else", () => {
      fc.assert(
        fc.property(
          arbitraryHubMessage(value),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("set", "insert", "delete")), { minLength: 1, maxLength: 4 }),
          (message, mutations) => {
            const bytes = [...write(message)];
            for (const [position, byte, kind] of mutations) {
              const at = position % (bytes.length + 1);
              if (kind === "set") bytes[at] = byte;
              else if (kind === "insert") bytes.splice(at, 0, byte);
              else bytes.splice(at, 1);
            }
            parseOrProtocolError(Uint8Array.from(bytes));
          },
        ),
        { numRuns: 2000 },
      );
    });
  });
}
