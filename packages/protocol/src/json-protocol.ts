/**
 * The JSON hub protocol (`"json"`): one JSON object per record, each ending in `0x1E`.
 *
 * @module
 * @example
 * ```ts
 * import { JsonHubProtocol, MessageType } from "@hubwire/protocol";
 *
 * const json = new JsonHubProtocol({ maxMessageBytes: 64 * 1024 });
 * const frame = json.write({ type: MessageType.Invocation, target: "send", arguments: ["hi"] });
 * json.parse(frame); // [{ type: 1, target: "send", arguments: ["hi"] }]
 * ```
 */
import { TransferFormat } from "./constants.js";
import { createMessageParser, type HubProtocol, type HubProtocolOptions, type MessageParser, parseWhole } from "./hub-protocol.js";
import { jsonString } from "./json-string.js";
import { readHubMessage } from "./message-validation.js";
import { type HubMessage, MessageType } from "./messages.js";
import { checkPayload, forbiddenKey, isBytes } from "./payload-limits.js";
import * as ProtocolDefaults from "./protocol-defaults.js";
import { isProtocolError, ProtocolError } from "./protocol-error.js";
import { TextRecordReader, writeTextRecord } from "./text-framing.js";
import * as ErrorCode from "./wire-error-codes.js";

/** Options of {@link JsonHubProtocol}. */
export interface JsonHubProtocolOptions extends HubProtocolOptions {
  /**
   * The deepest nesting read and written, the message itself counting as the first level.
   * Default 64, System.Text.Json's `MaxDepth`, so that what this side writes a .NET peer reads.
   */
  readonly maxDepth?: number;
}

/**
 * The SignalR JSON hub protocol. Stateless: one instance serves every connection.
 *
 * Bytes (`Uint8Array`, `Buffer`, any `ArrayBuffer` or view) are written as base64 strings and a
 * `Date` as its ISO 8601 string, as System.Text.Json writes `byte[]` and `DateTime`; both read
 * back as strings. A payload nested past `maxDepth`, or holding a `__proto__` key, is refused
 * with a {@link ProtocolError} whose `envelope` names the call, on the way in and on the way out.
 */
export class JsonHubProtocol implements HubProtocol {
  readonly name = "json";
  readonly version = 2;
  readonly transferFormat = TransferFormat.Text;
  readonly maxMessageBytes: number;
  readonly maxDepth: number;
  readonly #unknownMessageTypes: "ignore" | "reject";
  /** Shorter records cannot nest past the limit: each level takes an opening and a closing bracket. */
  readonly #minDeepRecordLength: number;

  constructor(options: JsonHubProtocolOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? ProtocolDefaults.maxMessageBytes;
    this.maxDepth = options.maxDepth ?? ProtocolDefaults.maxJsonDepth;
    this.#unknownMessageTypes = options.unknownMessageTypes ?? "ignore";
    this.#minDeepRecordLength = 2 * (this.maxDepth + 1);
  }

  parse(input: string | Uint8Array): HubMessage[] {
    return parseWhole(this.createParser(), input, "Message is incomplete.");
  }

  createParser(): MessageParser {
    return createMessageParser(new TextRecordReader({ maxMessageBytes: this.maxMessageBytes }), this.#readRecord, this.#unknownMessageTypes);
  }

  write(message: HubMessage): string {
    // The answer to most calls (a Completion) and each item of a stream (a StreamItem), with a
    // plain value and no headers, are written without building the wire object: the same text,
    // in SignalR's field order.
    if (message.type === MessageType.Completion && message.headers === undefined && message.error === undefined) {
      const result = plainLiteral(message.result);
      if (result !== undefined) return writeTextRecord(`{"type":3,"invocationId":${jsonString(message.invocationId)},"result":${result}}`);
    } else if (message.type === MessageType.StreamItem && message.headers === undefined) {
      const item = plainLiteral(message.item);
      if (item !== undefined) return writeTextRecord(`{"type":2,"invocationId":${jsonString(message.invocationId)},"item":${item}}`);
    }
    try {
      const wire = toWireObject(message);
      // Only a payload that holds containers can be too deep or hold bytes.
      const hasBytes = hasContainerPayload(message) && checkPayload(message, this.maxDepth);
      return writeTextRecord(hasBytes ? JSON.stringify(wire, bytesAsBase64) : JSON.stringify(wire));
    } catch (error) {
      if (isProtocolError(error)) throw error;
      throw new ProtocolError(ErrorCode.UnencodableMessage, `The message cannot be written as JSON: ${(error as Error).message}`, { cause: error });
    }
  }

  /** One JSON record as a checked hub message (an arrow made once per protocol, shared by its parsers). */
  readonly #readRecord = (record: string): HubMessage => {
    let value: unknown;
    try {
      // JSON.parse reads any depth without recursing, so the limit is checked on what it built.
      value = JSON.parse(record);
    } catch (error) {
      throw new ProtocolError(ErrorCode.MalformedMessage, "The message is not valid JSON.", { cause: error });
    }
    const message = readHubMessage(value);
    // The walk costs a visit per value, so it runs only when the record could break a rule at all.
    const mayHaveProtoKey = record.includes("__proto__");
    if (mayHaveProtoKey) refuseProtoKeyInEnvelope(value as Record<string, unknown>, message);
    if (mayHaveProtoKey || record.length >= this.#minDeepRecordLength) checkPayload(message, this.maxDepth);
    return message;
  };
}

/**
 * JSON.parse makes `__proto__` an own key, which is harmless until some code copies it with
 * assignment (`Object.assign`, a deep merge) and so swaps a prototype. In the message's own
 * fields or headers it fails the connection; in a payload, only its call ({@link checkPayload}).
 */
function refuseProtoKeyInEnvelope(value: Record<string, unknown>, message: HubMessage): void {
  if (Object.hasOwn(value, "__proto__")) throw forbiddenKey();
  const headers = (message as { headers?: Record<string, string> }).headers;
  if (headers !== undefined && Object.hasOwn(headers, "__proto__")) throw forbiddenKey();
}

/** The JSON text of a string, number, boolean or null; undefined for anything else (the general path writes it). */
function plainLiteral(value: unknown): string | undefined {
  const kind = typeof value;
  if (kind === "string") return jsonString(value as string);
  if (kind === "number" || kind === "boolean" || value === null) return JSON.stringify(value);
  return undefined;
}

function hasContainerPayload(message: HubMessage): boolean {
  switch (message.type) {
    case MessageType.Invocation:
    case MessageType.StreamInvocation:
      return message.arguments.length > 0;
    case MessageType.StreamItem:
      return typeof message.item === "object" && message.item !== null;
    case MessageType.Completion:
      return typeof message.result === "object" && message.result !== null;
    default:
      return false;
  }
}

/**
 * A JSON.stringify replacer that writes bytes as base64. It reads the holder's own value: a
 * `Buffer`'s `toJSON` has already turned `value` into `{ type: "Buffer", data: [...] }`.
 */
function bytesAsBase64(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  if (typeof original !== "object" || original === null || !isBytes(original)) return value;
  const bytes = ArrayBuffer.isView(original) ? new Uint8Array(original.buffer, original.byteOffset, original.byteLength) : new Uint8Array(original);
  let text = "";
  // In slices: String.fromCharCode takes its bytes as arguments, and arguments are limited.
  for (let offset = 0; offset < bytes.length; offset += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  }
  return btoa(text);
}

/**
 * The object JSON.stringify writes: known fields only, in SignalR's order, absent ones left out.
 * Copying also keeps a caller's extra properties off the wire. Built by assignment rather than
 * spreads: this runs for every message sent, and spreading empty objects costs far more.
 */
function toWireObject(message: HubMessage): object {
  const wire: Record<string, unknown> = { type: message.type };
  switch (message.type) {
    case MessageType.Invocation:
    case MessageType.StreamInvocation:
      addHeaders(wire, message.headers);
      if (message.invocationId !== undefined) wire["invocationId"] = message.invocationId;
      wire["target"] = message.target;
      wire["arguments"] = message.arguments;
      if (message.streamIds !== undefined && message.streamIds.length > 0) wire["streamIds"] = message.streamIds;
      return wire;
    case MessageType.StreamItem:
      addHeaders(wire, message.headers);
      wire["invocationId"] = message.invocationId;
      wire["item"] = message.item;
      return wire;
    case MessageType.Completion:
      if (message.error !== undefined && message.result !== undefined) {
        throw new ProtocolError(ErrorCode.UnencodableMessage, "A Completion carries a result or an error, not both.");
      }
      addHeaders(wire, message.headers);
      wire["invocationId"] = message.invocationId;
      if (message.error !== undefined) wire["error"] = message.error;
      if (message.result !== undefined) wire["result"] = message.result;
      return wire;
    case MessageType.CancelInvocation:
      addHeaders(wire, message.headers);
      wire["invocationId"] = message.invocationId;
      return wire;
    case MessageType.Ping:
      return wire;
    case MessageType.Close:
      if (message.error !== undefined) wire["error"] = message.error;
      if (message.allowReconnect !== undefined) wire["allowReconnect"] = message.allowReconnect;
      return wire;
    case MessageType.Ack:
    case MessageType.Sequence:
      wire["sequenceId"] = message.sequenceId;
      return wire;
    default:
      throw unknownTypeToWrite(message);
  }
}

function addHeaders(wire: Record<string, unknown>, headers: Readonly<Record<string, string>> | undefined): void {
  if (headers !== undefined && Object.keys(headers).length > 0) wire["headers"] = headers;
}

/** For a message whose `type` is outside the union (a caller's bug, or a cast). */
function unknownTypeToWrite(message: never): ProtocolError {
  return new ProtocolError(ErrorCode.UnencodableMessage, `Cannot write a message of unknown type '${String((message as { type?: unknown }).type)}'.`);
}
