/**
 * Binary record framing: every record starts with its length as a VarInt (7 bits per byte, least
 * significant group first, high bit set while more bytes follow; at most 5 bytes, under 2 GB).
 *
 * @module
 * @example
 * ```ts
 * import { BinaryRecordReader, writeBinaryRecord } from "@hubwire/protocol-msgpack";
 *
 * const frame = writeBinaryRecord(new Uint8Array([0x91, 0x06])); // [0x02, 0x91, 0x06]
 * new BinaryRecordReader({ maxMessageBytes: 32 * 1024 }).push(frame); // [Uint8Array [0x91, 0x06]]
 * ```
 */
import { ErrorCode, ProtocolDefaults, ProtocolError } from "@hubwire/protocol";

/** The most bytes a length prefix may take. */
export const MAX_LENGTH_PREFIX_BYTES = 5;

/** The number of bytes the VarInt for `length` takes. */
export function lengthPrefixSize(length: number): number {
  let size = 1;
  while (length >= 0x80) {
    length = Math.floor(length / 0x80);
    size++;
  }
  return size;
}

/** Writes `length` as a VarInt into `target` at `offset`; returns the offset after it. */
export function writeLengthPrefix(length: number, target: Uint8Array, offset: number): number {
  while (length >= 0x80) {
    target[offset++] = (length & 0x7f) | 0x80;
    length = Math.floor(length / 0x80);
  }
  target[offset++] = length;
  return offset;
}

/** Prefixes one serialized record with its length. */
export function writeBinaryRecord(payload: Uint8Array): Uint8Array {
  const record = new Uint8Array(lengthPrefixSize(payload.length) + payload.length);
  record.set(payload, writeLengthPrefix(payload.length, record, 0));
  return record;
}

/** What a reader holding nothing holds: one frozen array for all readers (one lives per connection). */
const noParts: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];

/**
 * Splits a byte stream into records. A length prefix over `maxMessageBytes` is refused as soon as
 * it is read, before any of the record is held; an unfinished record is held in the pieces that
 * arrived, never in a buffer sized by the prefix. After it has thrown, the stream is not usable.
 *
 * @example
 * ```ts
 * const reader = new BinaryRecordReader({ maxMessageBytes: 32 * 1024 });
 * for (const record of reader.push(chunk)) handle(record); // whole records; a partial one waits for the next chunk
 * ```
 */
export class BinaryRecordReader {
  readonly maxMessageBytes: number;
  /** The record length being read, or -1 while reading a prefix. */
  #expected = -1;
  #prefixValue = 0;
  #prefixBytes = 0;
  #pending: Uint8Array[] = noParts;
  #pendingLength = 0;

  constructor(options: { readonly maxMessageBytes?: number } = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? ProtocolDefaults.maxMessageBytes;
  }

  /** Bytes of an unfinished record (prefix included) held from earlier chunks. */
  get bufferedBytes(): number {
    return this.#prefixBytes + this.#pendingLength;
  }

  /**
   * Feeds one chunk and returns the records it completes, without prefixes. A returned record may
   * be a view into `chunk`: read it before the chunk's buffer is reused.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const records: Uint8Array[] = [];
    this.pushInto(chunk, records);
    return records;
  }

  /**
   * Feeds one chunk and appends the records it completes to `records` as it finds them: when a
   * length prefix breaks the limits, the records before it are already there when this throws.
   */
  pushInto(chunk: Uint8Array, records: Uint8Array[]): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#expected === -1) {
        offset = this.#readPrefix(chunk, offset);
        if (this.#expected === -1) break;
      }
      const available = chunk.length - offset;
      const missing = this.#expected - this.#pendingLength;
      if (this.#pending.length === 0 && available >= this.#expected) {
        records.push(chunk.subarray(offset, offset + this.#expected));
        offset += this.#expected;
        this.#expected = -1;
      } else if (available >= missing) {
        this.#hold(chunk.subarray(offset, offset + missing));
        records.push(this.#takePending());
        offset += missing;
      } else {
        // Copy: the caller may reuse its buffer once push returns.
        this.#hold(chunk.slice(offset));
        this.#pendingLength += available;
        offset = chunk.length;
      }
    }
  }

  #readPrefix(chunk: Uint8Array, offset: number): number {
    while (offset < chunk.length) {
      const byte = chunk[offset++]!;
      // Multiply rather than shift: a shift by 28 would turn the top bits negative.
      this.#prefixValue += (byte & 0x7f) * 2 ** (7 * this.#prefixBytes);
      this.#prefixBytes++;
      if (this.#prefixBytes === MAX_LENGTH_PREFIX_BYTES && byte > 0x07) {
        throw new ProtocolError(
          ErrorCode.InvalidLengthPrefix,
          "The length prefix is longer than 5 bytes or over 2 GB: messages bigger than 2GB are not supported.",
        );
      }
      if ((byte & 0x80) === 0) {
        const length = this.#prefixValue;
        this.#prefixValue = 0;
        this.#prefixBytes = 0;
        if (length > this.maxMessageBytes) {
          throw new ProtocolError(ErrorCode.MessageTooLarge, `The message is ${length} bytes, over the maximum of ${this.maxMessageBytes} bytes.`);
        }
        this.#expected = length;
        return offset;
      }
    }
    return offset;
  }

  #takePending(): Uint8Array {
    const whole = new Uint8Array(this.#expected);
    let offset = 0;
    for (const part of this.#pending) {
      whole.set(part, offset);
      offset += part.length;
    }
    this.#pending = noParts;
    this.#pendingLength = 0;
    this.#expected = -1;
    return whole;
  }

  #hold(part: Uint8Array): void {
    if (this.#pending === noParts) this.#pending = [part];
    else this.#pending.push(part);
  }
}
