import { arbitraryHubMessage, arbitraryJsonValue, normalizeMessage } from "@hubwire/test-support";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JsonHubProtocol } from "./json-protocol.js";
import type { HubMessage } from "./messages.js";
import { isProtocolError } from "./protocol-error.js";

const protocol = new JsonHubProtocol({ maxMessageBytes: 4096 });

/** parse either returns messages or throws a ProtocolError; anything else fails the property. */
function parseOrProtocolError(input: string | Uint8Array): void {
  try {
    protocol.parse(input);
  } catch (error) {
    if (!isProtocolError(error)) throw error;
  }
}

describe("JsonHubProtocol, property-based", () => {
  it("reads back every valid message it writes", () => {
    fc.assert(
      fc.property(arbitraryHubMessage(arbitraryJsonValue), (message) => {
        const parsed = protocol.parse(protocol.write(message as unknown as HubMessage));
        expect(parsed.map(normalizeMessage)).toEqual([normalizeMessage(message)]);
      }),
      { numRuns: 500 },
    );
  });

  it("reads the same messages however a batch is split into chunks", () => {
    fc.assert(
      fc.property(
        fc.array(arbitraryHubMessage(arbitraryJsonValue), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (messages, cuts) => {
          const bytes = new TextEncoder().encode(messages.map((m) => protocol.write(m as unknown as HubMessage)).join(""));
          const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
          const parser = protocol.createParser();
          const parsed: HubMessage[] = [];
          let start = 0;
          for (const point of [...points, bytes.length]) {
            parsed.push(...parser.push(bytes.subarray(start, point)));
            start = point;
          }
          expect(parsed.map(normalizeMessage)).toEqual(messages.map(normalizeMessage));
          expect(parser.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("answers arbitrary text and bytes with messages or a ProtocolError, nothing else", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), parseOrProtocolError), { numRuns: 1000 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), parseOrProtocolError), { numRuns: 1000 });
  });

  it("answers mutated valid records with messages or a ProtocolError, nothing else", () => {
    fc.assert(
      fc.property(
        arbitraryHubMessage(arbitraryJsonValue),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("set", "insert", "delete")), {
          minLength: 1,
          maxLength: 4,
        }),
        (message, mutations) => {
          const bytes = [...new TextEncoder().encode(protocol.write(message as unknown as HubMessage))];
          for (const [position, byte, kind] of mutations) {
            const at = position % (bytes.length + 1);
            if (kind === "set") bytes[at] = byte;
            else if (kind === "insert") bytes.splice(at, 0, byte);
            else bytes.splice(at, 1);
          }
          parseOrProtocolError(Uint8Array.from(bytes));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
