import { normalizeMessage, readProtocolVectors } from "@hubwire/test-support";
import { NullLogger, type HubMessage as OfficialHubMessage, JsonHubProtocol as OfficialJsonHubProtocol } from "@microsoft/signalr";
import { describe, expect, it } from "vitest";
import { JsonHubProtocol } from "./json-protocol.js";
import type { HubMessage } from "./messages.js";

const ours = new JsonHubProtocol();
const official = new OfficialJsonHubProtocol();
/** The official JSON parser only reads what a client receives: it skips types 4 and 5. */
const officialReads = new Set([1, 2, 3, 6, 7, 8, 9]);

describe("docs/protocol.md vectors, JSON column", () => {
  for (const vector of readProtocolVectors()) {
    const message = vector.message as unknown as HubMessage;
    const record = `${vector.json}\u001e`;

    it(`${vector.title}: we write the documented bytes`, () => {
      expect(ours.write(message)).toBe(record);
    });

    it(`${vector.title}: we read the documented bytes`, () => {
      expect(ours.parse(new TextEncoder().encode(record)).map(normalizeMessage)).toEqual([message]);
    });

    it(`${vector.title}: the official client writes the same bytes`, () => {
      expect(official.writeMessage(message as unknown as OfficialHubMessage)).toBe(record);
    });

    if (officialReads.has(message.type)) {
      it(`${vector.title}: the official client reads the documented bytes`, () => {
        expect(official.parseMessages(record, NullLogger.instance).map(normalizeMessage)).toEqual([message]);
      });
    }
  }
});
