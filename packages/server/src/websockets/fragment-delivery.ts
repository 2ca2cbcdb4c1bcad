/**
 * Delivers each fragment of a fragmented message as it arrives (the seed's `EndOfMessage`),
 * instead of the whole message once. `ws` assembles messages and exposes no fragment event, so
 * this wraps its receiver's hand-off point for one socket: at every non-final data frame the
 * bytes so far are handed out and dropped, and the final frame reaches the usual 'message' event
 * as the last fragment. Text stays valid UTF-8 per fragment: a character split between frames is
 * held back until its last byte arrives, and invalid text closes the socket with 1007, as ws
 * does for whole messages. Compressed messages are delivered whole (ws inflates them as one).
 *
 * @module
 */
import type { WebSocket } from "ws";

/** The receiver fields this relies on (ws 8's Receiver). Checked at attach time. */
interface ReceiverInternals {
  _fin: boolean;
  _compressed: boolean;
  _opcode: number;
  _fragmented: number;
  _fragments: Buffer[];
  _messageLength: number;
  dataMessage(callback: (error?: Error) => void): void;
}

/** The length of the longest prefix of `bytes` that ends on a UTF-8 character boundary. */
function completeUtf8Length(bytes: Buffer): number {
  // Walk back over at most 3 continuation bytes to the lead byte of the last character.
  let index = bytes.length - 1;
  let continuation = 0;
  while (index >= 0 && continuation < 3 && (bytes[index]! & 0xc0) === 0x80) {
    index--;
    continuation++;
  }
  if (index < 0) return bytes.length;
  const lead = bytes[index]!;
  const needed = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
  return continuation >= needed ? bytes.length : index;
}

/**
 * Makes `ws` emit `fragment(data, isBinary)` for each non-final fragment; the final one still
 * comes as `message`. Returns false (and changes nothing) if this ws version lacks the hook.
 */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function isValidUtf8(bytes: Buffer): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

export function deliverFragments(ws: WebSocket, onFragment: (data: Buffer, isBinary: boolean) => void): boolean {
  const receiver = (ws as unknown as { _receiver?: ReceiverInternals })._receiver;
  if (receiver === undefined || typeof receiver.dataMessage !== "function" || !Array.isArray(receiver._fragments)) return false;
  const dataMessage = receiver.dataMessage;
  receiver.dataMessage = function (this: ReceiverInternals, callback) {
    if (!this._compressed) {
      const joined = Buffer.concat(this._fragments);
      const isBinary = (this._fragmented || this._opcode) === 2;
      const cut = this._fin ? joined.length : isBinary ? joined.length : completeUtf8Length(joined);
      if (!this._fin && cut > 0) {
        const fragment = joined.subarray(0, cut);
        // ws checks text only when a message ends; a fragment handed out early is checked here.
        if (!isBinary && !isValidUtf8(fragment)) {
          // Let ws fail it its own way (close 1007): hand it the bad bytes as a finished message.
          this._fragments = [fragment];
          this._messageLength = fragment.length;
          this._fin = true;
          dataMessage.call(this, callback);
          return;
        }
        onFragment(fragment, isBinary);
      }
      // Keep only what is not delivered yet: a split character, or (at the end) the last fragment.
      const rest = joined.subarray(this._fin ? 0 : cut);
      this._fragments = rest.length > 0 ? [rest] : [];
      this._messageLength = rest.length;
    }
    dataMessage.call(this, callback);
  };
  return true;
}
