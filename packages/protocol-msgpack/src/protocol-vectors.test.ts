import type { HubMessage } from "@hubwire/protocol";
import { normalizeMessage, readProtocolVectors } from "@hubwire/test-support";
import { NullLogger, type HubMessage as OfficialHubMessage } from "@microsoft/signalr";
import { MessagePackHubProtocol as OfficialMessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import { describe, expect, it } from "vitest";
import { MessagePackHubProtocol } from "./msgpack-protocol.js";

const ours = new MessagePackHubProtocol();
const official = new OfficialMessagePackHubProtocol();
/** The official parser only reads what a client receives: it skips types 4 and 5. */
const officialReads = new Set([1, 2, 3, 6, 7, 8, 9]);
/** The official writer drops a Close's error and allowReconnect (clients never send them). */
const officialWritesFaithfully = (message: HubMessage) => message.type !== 7 || Object.keys(message).length === 1;

describe("docs/protocol.md vectors, MessagePack column", () => {
  for (const vector of readProtocolVectors()) {
    const message = vector.message as unknown as HubMessage;

    it(`${vector.title}: we write the documented bytes`, () => {
      expect(ours.write(message)).toEqual(vector.messagepack);
    });

    it(`${vector.title}: we read the documented bytes`, () => {
      expect(ours.parse(vector.messagepack).map(normalizeMessage)).toEqual([message]);
    });

    if (officialWritesFaithfully(message)) {
      it(`${vector.title}: the official client writes the same bytes`, () => {
        expect(new Uint8Array(official.writeMessage(message as unknown as OfficialHubMessage))).toEqual(vector.messagepack);
      });
    }

    if (officialReads.has(message.type)) {
      it(`${vector.title}: the official client reads the documented bytes`, () => {
        const parsed = official.parseMessages(vector.messagepack.slice().buffer, NullLogger.instance);
        // The official reader drops stream ids (a client never receives them).
        const { streamIds: _dropped, ...expected } = message as HubMessage & { streamIds?: unknown };
        expect(parsed.map(normalizeMessage)).toEqual([expected]);
      });
    }
  }
});
