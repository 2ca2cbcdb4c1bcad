/**
 * A MessagePack encoder that writes strings with `TextEncoder.encodeInto`, without measuring them
 * first.
 *
 * `@msgpack/msgpack` counts a string's UTF-8 bytes in a JavaScript loop (to write the length
 * header) and then encodes it in another (below 50 units) or with `TextEncoder`. For a 1 KiB
 * payload the count was a sixth of a hub server's CPU time; for the 32-byte payloads of the echo
 * bench the two loops cost more in a running server than they do alone (about 15% of the
 * server's CPU with 16 calls in flight), since their character loads there see strings of every
 * kind. Here every string is encoded straight into room for its longest possible form, then given
 * the header for the length it actually took, the bytes moved up against it when that header is
 * shorter. The output is the library's bytes (minimal headers) for every well-formed string; a
 * lone surrogate becomes U+FFFD, as in the JSON protocol (the library wrote it as an invalid
 * three-byte sequence in short strings).
 *
 * @module
 */
import { Encoder, type EncoderOptions } from "@msgpack/msgpack";

/** The encoder fields this relies on (@msgpack/msgpack 3's Encoder). Checked at construction. */
interface EncoderInternals {
  pos: number;
  bytes: Uint8Array;
  view: DataView;
  ensureBufferSizeToWrite(sizeToWrite: number): void;
}

const textEncoder = new TextEncoder();

function headerBytes(byteLength: number): number {
  // fixstr, str 8, str 16, str 32
  return byteLength < 32 ? 1 : byteLength < 0x100 ? 2 : byteLength < 0x10000 ? 3 : 5;
}

function encodeString(this: EncoderInternals, text: string): void {
  // Each UTF-16 unit takes at most 3 bytes of UTF-8 (a surrogate pair: 4 bytes for 2 units).
  const maxBytes = text.length * 3;
  const reserved = headerBytes(maxBytes);
  this.ensureBufferSizeToWrite(reserved + maxBytes);
  const start = this.pos + reserved;
  const { written } = textEncoder.encodeInto(text, this.bytes.subarray(start, start + maxBytes));
  const header = headerBytes(written);
  if (header < reserved) this.bytes.copyWithin(this.pos + header, start, start + written);
  if (header === 1) {
    this.view.setUint8(this.pos, 0xa0 | written);
  } else if (header === 2) {
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
 * `new HubMessageEncoder(options)` is an `Encoder` whose strings skip the library's count.
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
    if (typeof internals.ensureBufferSizeToWrite !== "function" || typeof internals.view !== "object") {
      throw new Error("This version of @msgpack/msgpack has no Encoder.ensureBufferSizeToWrite/view to build on.");
    }
  }
}
Object.defineProperty(HubMessageEncoder.prototype, "encodeString", { value: encodeString, writable: true, configurable: true });
