/**
 * A MessagePack encoder that writes long strings without measuring them first.
 *
 * `@msgpack/msgpack` counts a string's UTF-8 bytes in a JavaScript loop (to write the length
 * header) before it encodes the string; for a 1 KiB payload that loop was a sixth of a hub
 * server's CPU time. Here a long string is encoded with `TextEncoder.encodeInto` straight into
 * room for its longest possible form, then given the header for the length it actually took, the
 * bytes moved up against it when that header is shorter. The output is the same bytes as
 * before (minimal headers). Short strings keep the library's path, which is faster for them.
 *
 * @module
 */
import { Encoder, type EncoderOptions } from "@msgpack/msgpack";

/** From this many UTF-16 units on, a string is encoded here instead of by the library. */
export const LONG_STRING_UNITS = 64;

/** The encoder fields this relies on (@msgpack/msgpack 3's Encoder). Checked at construction. */
interface EncoderInternals {
  pos: number;
  bytes: Uint8Array;
  view: DataView;
  ensureBufferSizeToWrite(sizeToWrite: number): void;
}

const textEncoder = new TextEncoder();
const libraryEncodeString = (Encoder.prototype as unknown as { encodeString(this: EncoderInternals, text: string): void }).encodeString;

function headerBytes(byteLength: number): number {
  // str 8, str 16, str 32 (a long string is never a fixstr: 64 units take at least 64 bytes)
  return byteLength < 0x100 ? 2 : byteLength < 0x10000 ? 3 : 5;
}

function encodeString(this: EncoderInternals, text: string): void {
  if (text.length < LONG_STRING_UNITS) {
    libraryEncodeString.call(this, text);
    return;
  }
  // Each UTF-16 unit takes at most 3 bytes of UTF-8 (a surrogate pair: 4 bytes for 2 units).
  const maxBytes = text.length * 3;
  const reserved = headerBytes(maxBytes);
  this.ensureBufferSizeToWrite(reserved + maxBytes);
  const start = this.pos + reserved;
  const { written } = textEncoder.encodeInto(text, this.bytes.subarray(start, start + maxBytes));
  const header = headerBytes(written);
  if (header < reserved) this.bytes.copyWithin(this.pos + header, start, start + written);
  if (header === 2) {
    this.view.setUint8(this.pos, 0xd9);
    this.view.setUint8(this.pos + 1, written);
  } else if (header === 3) {
    this.view.setUint8(this.pos, 0xda);
    this.view.setUint16(this.pos + 1, written);
  } else {
    this.view.setUint8(this.pos, 0xdb);
    this.view.setUint32(this.pos + 1, written);
  }
  this.pos += header + written;
}

/**
 * `new HubMessageEncoder(options)` is an `Encoder` whose long strings skip the library's count.
 *
 * @example
 * ```ts
 * const encoder = new HubMessageEncoder({ maxDepth: 100 });
 * encoder.encodeSharedRef([1, {}, "1", "echo", ["x".repeat(1024)]]);
 * ```
 */
export class HubMessageEncoder<ContextType = undefined> extends Encoder<ContextType> {
  constructor(options?: EncoderOptions<ContextType>) {
    super(options);
    const internals = this as unknown as Partial<EncoderInternals>;
    if (typeof internals.ensureBufferSizeToWrite !== "function" || typeof libraryEncodeString !== "function") {
      throw new Error("This version of @msgpack/msgpack has no Encoder.encodeString/ensureBufferSizeToWrite to build on.");
    }
  }
}
Object.defineProperty(HubMessageEncoder.prototype, "encodeString", { value: encodeString, writable: true, configurable: true });
