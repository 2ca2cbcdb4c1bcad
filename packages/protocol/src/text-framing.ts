/**
 * Text record framing: every record ends with the record separator `0x1E`. One transport frame
 * may carry several records, and a record may arrive split across frames.
 *
 * @module
 * @example
 * ```ts
 * import { TextRecordReader } from "@hubwire/protocol";
 *
 * const reader = new TextRecordReader({ maxMessageBytes: 32 * 1024 });
 * reader.push('{"type":6}\u001e{"type"'); // ['{"type":6}']
 * reader.push(':6}\u001e');                 // ['{"type":6}']
 * ```
 */
import { RECORD_SEPARATOR, RECORD_SEPARATOR_CODE } from "./constants.js";
import * as ProtocolDefaults from "./protocol-defaults.js";
import { ProtocolError } from "./protocol-error.js";
import * as ErrorCode from "./wire-error-codes.js";

/** Options of {@link TextRecordReader}. */
export interface TextRecordReaderOptions {
  /** The largest record, in UTF-8 bytes without its separator. Default 32 KB. */
  readonly maxMessageBytes?: number;
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/** Decodes UTF-8, throwing a {@link ProtocolError} with code `InvalidUtf8` for malformed input. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch (error) {
    throw new ProtocolError(ErrorCode.InvalidUtf8, "The message is not valid UTF-8.", { cause: error });
  }
}

/** Encodes a string as UTF-8. */
export function encodeUtf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** The UTF-8 length of a string, without encoding it. */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3; // the rest of the BMP; a lone surrogate becomes U+FFFD, also 3 bytes
  }
  return bytes;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Appends the record separator to one serialized record. */
export function writeTextRecord(record: string): string {
  return record + RECORD_SEPARATOR;
}

function tooLarge(bytes: number, max: number): ProtocolError {
  return new ProtocolError(ErrorCode.MessageTooLarge, `The message is ${bytes} bytes or more, over the maximum of ${max} bytes.`);
}

/** What a reader holding no bytes holds: one frozen array for all readers (one lives per connection). */
const noBytes: Uint8Array[] = /* @__PURE__ */ Object.freeze([]) as unknown as Uint8Array[];

/**
 * Splits a stream of text (as strings or UTF-8 bytes) into records. It keeps at most
 * `maxMessageBytes` of an unfinished record: past that it throws `MessageTooLarge` at once,
 * without waiting for the separator. After it has thrown, the stream is not usable any more.
 */
export class TextRecordReader {
  readonly maxMessageBytes: number;
  #pendingText = "";
  #pendingBytes: Uint8Array[] = noBytes;
  #pendingLength = 0;

  constructor(options: TextRecordReaderOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? ProtocolDefaults.maxMessageBytes;
  }

  /** Bytes of an unfinished record held from earlier chunks. */
  get bufferedBytes(): number {
    return this.#pendingLength;
  }

  /** Feeds one chunk and returns the records it completes, without their separators. */
  push(chunk: string | Uint8Array): string[] {
    const records: string[] = [];
    this.pushInto(chunk, records);
    return records;
  }

  /**
   * Feeds one chunk and appends the records it completes to `records` as it finds them: when a
   * record breaks the limits, those before it are already there when this throws.
   */
  pushInto(chunk: string | Uint8Array, records: string[]): void {
    if (typeof chunk === "string") this.#pushText(chunk, records);
    else this.#pushBytes(chunk, records);
  }

  #pushText(chunk: string, records: string[]): void {
    if (this.#pendingBytes.length > 0) return this.#pushBytes(encodeUtf8(chunk), records);
    let start = 0;
    let end = chunk.indexOf(RECORD_SEPARATOR);
    while (end !== -1) {
      let record = chunk.slice(start, end);
      if (this.#pendingText !== "") {
        record = this.#pendingText + record;
        this.#pendingText = "";
        this.#pendingLength = 0;
      }
      const bytes = utf8ByteLength(record);
      if (bytes > this.maxMessageBytes) throw tooLarge(bytes, this.maxMessageBytes);
      records.push(record);
      start = end + 1;
      end = chunk.indexOf(RECORD_SEPARATOR, start);
    }
    if (start < chunk.length) {
      const rest = chunk.slice(start);
      this.#pendingLength += utf8ByteLength(rest);
      if (this.#pendingLength > this.maxMessageBytes) throw tooLarge(this.#pendingLength, this.maxMessageBytes);
      this.#pendingText += rest;
    }
  }

  #pushBytes(chunk: Uint8Array, records: string[]): void {
    if (this.#pendingText !== "") {
      this.#holdBytes(encodeUtf8(this.#pendingText));
      this.#pendingText = "";
    }
    let start = 0;
    let end = chunk.indexOf(RECORD_SEPARATOR_CODE);
    while (end !== -1) {
      const length = this.#pendingLength + (end - start);
      if (length > this.maxMessageBytes) throw tooLarge(length, this.maxMessageBytes);
      records.push(decodeUtf8(this.#takePending(chunk.subarray(start, end))));
      start = end + 1;
      end = chunk.indexOf(RECORD_SEPARATOR_CODE, start);
    }
    if (start < chunk.length) {
      this.#pendingLength += chunk.length - start;
      if (this.#pendingLength > this.maxMessageBytes) throw tooLarge(this.#pendingLength, this.maxMessageBytes);
      // Copy: the caller may reuse its buffer once push returns.
      this.#holdBytes(chunk.slice(start));
    }
  }

  /** Joins the held bytes with the tail of a record and forgets them. */
  #takePending(tail: Uint8Array): Uint8Array {
    if (this.#pendingBytes.length === 0) return tail;
    const whole = new Uint8Array(this.#pendingLength + tail.length);
    let offset = 0;
    for (const part of this.#pendingBytes) {
      whole.set(part, offset);
      offset += part.length;
    }
    whole.set(tail, offset);
    this.#pendingBytes = noBytes;
    this.#pendingLength = 0;
    return whole;
  }

  #holdBytes(part: Uint8Array): void {
    if (this.#pendingBytes === noBytes) this.#pendingBytes = [part];
    else this.#pendingBytes.push(part);
  }
}
