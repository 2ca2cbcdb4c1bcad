/**
 * The handshake that opens every hub connection: always JSON ending in `0x1E`, whatever the hub
 * protocol. The client names a protocol and version; the server answers `{}` or `{"error": ...}`.
 * Bytes after the separator are already hub messages in the chosen protocol.
 *
 * @module
 * @example
 * ```ts
 * import { HandshakeReader, parseHandshakeRequest, writeHandshakeResponse } from "@hubwire/protocol";
 *
 * const reader = new HandshakeReader();
 * const record = reader.push(firstChunk); // undefined until the separator arrives
 * if (record) {
 *   const request = parseHandshakeRequest(record.handshake);
 *   socket.send(writeHandshakeResponse({}));
 *   handleHubMessages(record.remaining);
 * }
 * ```
 */
import { RECORD_SEPARATOR_CODE } from "./constants.js";
import * as ProtocolDefaults from "./protocol-defaults.js";
import { ProtocolError } from "./protocol-error.js";
import { decodeUtf8, encodeUtf8, writeTextRecord } from "./text-framing.js";
import * as ErrorCode from "./wire-error-codes.js";

/** The client's first message. */
export interface HandshakeRequest {
  readonly protocol: string;
  readonly version: number;
}

/** The server's answer: empty on success, `error` on failure (after which the server closes). */
export interface HandshakeResponse {
  readonly error?: string;
  /** Sent by some older servers; clients ignore it. */
  readonly minorVersion?: number;
}

/** The handshake record, and whatever followed it in the same input. */
export interface HandshakeRecord {
  /** The handshake's JSON text, without the separator. */
  readonly handshake: string;
  /** Bytes after the separator: the first hub messages, in the negotiated protocol. */
  readonly remaining: Uint8Array;
}

function invalidHandshake(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError(ErrorCode.InvalidHandshake, message, { cause });
}

function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalidHandshake(`The ${what} is not valid JSON.`, error);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidHandshake(`The ${what} must be a JSON object.`);
  }
  return value as Record<string, unknown>;
}

/**
 * Serializes the client's handshake, separator included.
 *
 * @example
 * ```ts
 * writeHandshakeRequest({ protocol: "json", version: 1 }); // '{"protocol":"json","version":1}\u001e'
 * ```
 */
export function writeHandshakeRequest(request: HandshakeRequest): string {
  return writeTextRecord(JSON.stringify({ protocol: request.protocol, version: request.version }));
}

/**
 * Serializes the server's answer, separator included: `{}` for success.
 *
 * @example
 * ```ts
 * writeHandshakeResponse({ error: "The protocol 'xml' is not supported." });
 * ```
 */
export function writeHandshakeResponse(response: HandshakeResponse): string {
  return writeTextRecord(response.error === undefined ? "{}" : JSON.stringify({ error: response.error }));
}

/**
 * Reads a client's handshake (JSON text without the separator).
 *
 * @throws {ProtocolError} `InvalidHandshake` when it is not `{protocol: string, version: integer}`.
 * @example
 * ```ts
 * parseHandshakeRequest('{"protocol":"messagepack","version":2}'); // { protocol: "messagepack", version: 2 }
 * ```
 */
export function parseHandshakeRequest(text: string): HandshakeRequest {
  const value = parseJsonObject(text, "handshake request");
  const { protocol, version } = value;
  if (typeof protocol !== "string") throw invalidHandshake("The handshake request must name a 'protocol'.");
  if (typeof version !== "number" || !Number.isSafeInteger(version)) {
    throw invalidHandshake("The handshake request must give an integer 'version'.");
  }
  return { protocol, version };
}

/**
 * Reads a server's handshake answer (JSON text without the separator).
 *
 * @throws {ProtocolError} `InvalidHandshake` when it is not a handshake answer: a hub message
 *   (one with a `type`) in its place is refused, as the official client does.
 * @example
 * ```ts
 * const response = parseHandshakeResponse("{}");
 * if (response.error !== undefined) throw new Error(`Server returned handshake error: ${response.error}`);
 * ```
 */
export function parseHandshakeResponse(text: string): HandshakeResponse {
  const value = parseJsonObject(text, "handshake response");
  if (value["type"] !== undefined) throw invalidHandshake("Expected a handshake response from the server.");
  const { error, minorVersion } = value;
  if (error !== undefined && typeof error !== "string") {
    throw invalidHandshake("The handshake response 'error' must be a string.");
  }
  return {
    ...(error === undefined ? {} : { error }),
    ...(typeof minorVersion === "number" ? { minorVersion } : {}),
  };
}

/**
 * Collects input until the handshake's separator arrives, holding at most `maxHandshakeBytes`.
 * Then it hands back the handshake text and the bytes after it.
 */
export class HandshakeReader {
  readonly maxHandshakeBytes: number;
  #pending: Uint8Array[] = [];
  #pendingLength = 0;

  constructor(options: { readonly maxHandshakeBytes?: number } = {}) {
    this.maxHandshakeBytes = options.maxHandshakeBytes ?? ProtocolDefaults.maxMessageBytes;
  }

  /**
   * Feeds one chunk. Returns the handshake once it is complete, `undefined` until then.
   * @throws {ProtocolError} `MessageTooLarge` past the limit, `InvalidUtf8` for bad text.
   */
  push(chunk: string | Uint8Array): HandshakeRecord | undefined {
    const bytes = typeof chunk === "string" ? encodeUtf8(chunk) : chunk;
    const end = bytes.indexOf(RECORD_SEPARATOR_CODE);
    const headLength = end === -1 ? bytes.length : end;
    if (this.#pendingLength + headLength > this.maxHandshakeBytes) {
      throw new ProtocolError(ErrorCode.MessageTooLarge, `The handshake is over the maximum of ${this.maxHandshakeBytes} bytes.`);
    }
    if (end === -1) {
      this.#pending.push(bytes.slice());
      this.#pendingLength += bytes.length;
      return undefined;
    }
    const head = new Uint8Array(this.#pendingLength + end);
    let offset = 0;
    for (const part of this.#pending) {
      head.set(part, offset);
      offset += part.length;
    }
    head.set(bytes.subarray(0, end), offset);
    this.#pending = [];
    this.#pendingLength = 0;
    return { handshake: decodeUtf8(head), remaining: bytes.subarray(end + 1) };
  }
}
