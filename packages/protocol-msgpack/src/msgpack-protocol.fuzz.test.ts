import { isProtocolError, type HubMessage } from "@hubwire/protocol";
import { arbitraryHubMessage, arbitraryJsonValue, normalizeMessage } from "@hubwire/test-support";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MessagePackHubProtocol } from "./msgpack-protocol.js";

const protocol = new MessagePackHubProtocol({ maxMessageBytes: 4096 });
const value = fc.oneof(arbitraryJsonValue, fc.uint8Array({ maxLength: 16 }), fc.array(fc.uint8Array({ maxLength: 4 }), { maxLength: 3 }));

function parseOrProtocolError(input: Uint8Array): void {
  try {
    protocol.parse(input);
  } catch (error) {
    if (!isProtocolError(error)) throw error;
  }
}

describe("MessagePackHubProtocol, property-based", () => {
  it("reads back every valid message it writes", () => {
    fc.assert(
      fc.property(arbitraryHubMessage(value), (message) => {
        const parsed = protocol.parse(protocol.write(message as unknown as HubMessage));
        expect(parsed.map(normalizeMessage)).toEqual([normalizeMessage(message)]);
      }),
      { numRuns: 500 },
    );
  });

  it("reads the same messages however a batch is split into chunks", () => {
    fc.assert(
      fc.property(fc.array(arbitraryHubMessage(value), { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (messages, cuts) => {
        const frames = messages.map((m) => protocol.write(m as unknown as HubMessage));
        const bytes = Uint8Array.from(frames.flatMap((frame) => [...frame]));
        const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
        const parser = protocol.createParser();
        const parsed: HubMessage[] = [];
        let start = 0;
        for (const point of [...points, bytes.length]) {
          parsed.push(...parser.push(bytes.subarray(start, point)));
          start = point;
        }
        expect(parsed.map(normalizeMessage)).toEqual(messages.map(normalizeMessage));
      }),
      { numRuns: 300 },
    );
  });

  it("answers arbitrary bytes with messages or a ProtocolError, nothing else", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), parseOrProtocolError), { numRuns: 2000 });
    // Arbitrary bytes behind a correct length prefix reach the decoder instead of the framing.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 120 }), (body) => parseOrProtocolError(Uint8Array.of(body.length, ...body))),
      { numRuns: 2000 },
    );
  });

  it("answers mutated valid records with messages or a ProtocolError, nothing else", () => {
    fc.assert(
      fc.property(
        arbitraryHubMessage(value),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("set", "insert", "delete")), {
          minLength: 1,
          maxLength: 4,
        }),
        (message, mutations) => {
          const bytes = [...protocol.write(message as unknown as HubMessage)];
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
