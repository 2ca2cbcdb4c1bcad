/**
 * The MessagePack hub protocol (`"messagepack"`): each record is a VarInt length prefix and one
 * MessagePack array whose positions depend on the message type, as SignalR lays them out.
 *
 * @module
 * @example
 * ```ts
 * import { MessageType } from "@hubwire/protocol";
 * import { MessagePackHubProtocol } from "@hubwire/protocol-msgpack";
 *
 * const msgpack = new MessagePackHubProtocol({ maxMessageBytes: 64 * 1024 });
 * const frame = msgpack.write({ type: MessageType.Completion, invocationId: "1", result: 42 });
 * msgpack.parse(frame); // [{ type: 3, invocationId: "1", result: 42 }]
 * ```
 */

import {
  createMessageParser,
  ErrorCode,
  type HubMessage,
  type HubProtocol,
  type HubProtocolOptions,
  type MessageHeaders,
  type MessageParser,
  MessageType,
  ProtocolDefaults,
  ProtocolError,
  parseWhole,
  readHubMessage,
  TransferFormat,
} from "@hubwire/protocol";
import { DecodeError, Decoder, type Encoder, type ExtensionCodecType } from "@msgpack/msgpack";
import { BinaryRecordReader, writeBinaryRecord } from "./binary-framing.js";
import { checkMessagePackBounds } from "./msgpack-bounds.js";
import { withEnvelope } from "./refused-payload.js";
import { HubMessageEncoder } from "./string-encoder.js";

/** Options of {@link MessagePackHubProtocol}. */
export interface MessagePackHubProtocolOptions extends HubProtocolOptions {
  /** The deepest nesting accepted and written. Default 100 (the encoder's own default). */
  readonly maxDepth?: number;
  /** Extension types beyond the timestamp (type -1), which is always decoded to `Date`. */
  readonly extensionCodec?: ExtensionCodecType<undefined>;
}

/** Completion result kinds on the wire. */
const ResultKind = { Error: 1, Void: 2, Value: 3 } as const;

/** Ping has no headers: always exactly these bytes (length prefix 2, then `[6]`). */
const PING_RECORD = new Uint8Array([0x02, 0x91, MessageType.Ping]);

/** The SignalR MessagePack hub protocol. One instance serves every connection. */
export class MessagePackHubProtocol implements HubProtocol {
  readonly name = "messagepack";
  readonly version = 2;
  readonly transferFormat = TransferFormat.Binary;
  readonly maxMessageBytes: number;
  readonly maxDepth: number;
  readonly #unknownMessageTypes: "ignore" | "reject";
  readonly #encoder: Encoder;
  readonly #decoder: Decoder;

  constructor(options: MessagePackHubProtocolOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? ProtocolDefaults.maxMessageBytes;
    this.maxDepth = options.maxDepth ?? 100;
    this.#unknownMessageTypes = options.unknownMessageTypes ?? "ignore";
    const extensionCodec = options.extensionCodec === undefined ? {} : { extensionCodec: options.extensionCodec };
    // The encoder counts the value inside the innermost container as a level too: one more lets
    // it write everything the reader takes (`maxDepth` non-empty containers).
    this.#encoder = new HubMessageEncoder({ ...extensionCodec, maxDepth: this.maxDepth + 1 });
    // No length inside a record can exceed the record, so the record limit bounds them all.
    const max = this.maxMessageBytes;
    this.#decoder = new Decoder({
      ...extensionCodec,
      maxStrLength: max,
      maxBinLength: max,
      maxArrayLength: max,
      maxMapLength: max,
      maxExtLength: max,
    });
  }

  parse(input: string | Uint8Array): HubMessage[] {
    return parseWhole(this.createParser(), input, "Incomplete message.");
  }

  createParser(): MessageParser {
    return createMessageParser(new BinaryRecordReader({ maxMessageBytes: this.maxMessageBytes }), this.#readRecord, this.#unknownMessageTypes, onlyBinary);
  }

  write(message: HubMessage): Uint8Array {
    if (message.type === MessageType.Ping) return PING_RECORD.slice();
    const positional = toPositional(message);
    let payload: Uint8Array;
    try {
      payload = this.#encoder.encodeSharedRef(positional);
    } catch (error) {
      throw new ProtocolError(ErrorCode.UnencodableMessage, `The message cannot be written as MessagePack: ${(error as Error).message}`, { cause: error });
    }
    return writeBinaryRecord(payload);
  }

  /** An arrow made once per protocol, not per parser: a parser lives as long as its connection. */
  readonly #readRecord = (record: Uint8Array): HubMessage => {
    let value: unknown;
    try {
      checkMessagePackBounds(record, this.maxDepth);
      value = this.#decode(record);
    } catch (error) {
      const refused = error as ProtocolError;
      // A value refused inside the payload fails only its call, when the envelope can be read.
      if (refused.code === ErrorCode.NestingTooDeep || refused.code === ErrorCode.ForbiddenKey) {
        throw withEnvelope(record, refused, this.maxDepth, this.#decode);
      }
      throw refused;
    }
    return readHubMessage(fromPositional(value));
  };

  /** Decodes one value, reporting what the decoder refuses as a {@link ProtocolError}. */
  readonly #decode = (bytes: Uint8Array): unknown => {
    try {
      return this.#decoder.decode(bytes);
    } catch (error) {
      if (error instanceof DecodeError && error.message.includes("__proto__")) {
        throw new ProtocolError(ErrorCode.ForbiddenKey, "The key '__proto__' is not allowed in a hub message.", {
          cause: error,
        });
      }
      throw new ProtocolError(ErrorCode.MalformedMessage, `The message is not valid MessagePack: ${(error as Error).message}`, {
        cause: error,
      });
    }
  };
}

function onlyBinary(chunk: string | Uint8Array): Uint8Array {
  if (typeof chunk === "string") {
    throw new ProtocolError(ErrorCode.MalformedMessage, "The MessagePack protocol takes binary frames, not text.");
  }
  return chunk;
}

function invalid(message: string): ProtocolError {
  return new ProtocolError(ErrorCode.InvalidMessage, message);
}

/** Maps SignalR's positional array to the named fields {@link readHubMessage} checks. */
function fromPositional(value: unknown): unknown {
  if (!Array.isArray(value) || value.length === 0) throw invalid("A hub message must be a non-empty array.");
  const type: unknown = value[0];
  const need = (count: number, name: string): void => {
    if (value.length < count) throw invalid(`A ${name} message needs at least ${count} elements.`);
  };
  switch (type) {
    case MessageType.Invocation:
    case MessageType.StreamInvocation:
      need(5, type === MessageType.Invocation ? "Invocation" : "StreamInvocation");
      return {
        type,
        headers: value[1],
        invocationId: value[2],
        target: value[3],
        arguments: value[4],
        streamIds: value[5],
      };
    case MessageType.StreamItem:
      need(4, "StreamItem");
      return { type, headers: value[1], invocationId: value[2], item: value[3] };
    case MessageType.Completion: {
      need(4, "Completion");
      const kind: unknown = value[3];
      const fields = { type, headers: value[1], invocationId: value[2] };
      if (kind === ResultKind.Void) return fields;
      need(5, "Completion");
      if (kind === ResultKind.Error) {
        if (typeof value[4] !== "string") throw invalid("A Completion's error must be a string.");
        return { ...fields, error: value[4] };
      }
      // null is a value; the named form uses undefined for "no result".
      if (kind === ResultKind.Value) return { ...fields, result: value[4] };
      throw invalid(`Unknown Completion result kind '${String(kind)}'.`);
    }
    case MessageType.CancelInvocation:
      need(3, "CancelInvocation");
      return { type, headers: value[1], invocationId: value[2] };
    case MessageType.Ping:
      return { type };
    case MessageType.Close:
      need(2, "Close");
      return { type, error: value[1], allowReconnect: value[2] };
    case MessageType.Ack:
    case MessageType.Sequence:
      need(2, type === MessageType.Ack ? "Ack" : "Sequence");
      return { type, sequenceId: value[1] };
    default:
      // Unknown integer types are reported as such by readHubMessage.
      return { type };
  }
}

function headersOf(headers: MessageHeaders | undefined): MessageHeaders {
  return headers ?? {};
}

/** The positional array for a message (Ping is written as fixed bytes). */
function toPositional(message: Exclude<HubMessage, { type: typeof MessageType.Ping }>): unknown[] {
  switch (message.type) {
    case MessageType.Invocation:
    case MessageType.StreamInvocation: {
      const fields = [message.type, headersOf(message.headers), message.invocationId ?? null, message.target, message.arguments];
      // JS clients leave out the sixth element when there are no streams; readers take 5 or 6.
      if (message.streamIds !== undefined && message.streamIds.length > 0) fields.push(message.streamIds);
      return fields;
    }
    case MessageType.StreamItem:
      return [message.type, headersOf(message.headers), message.invocationId, message.item];
    case MessageType.Completion: {
      // Arrays written out rather than spread from a shared head: one is built per call answered.
      const headers = headersOf(message.headers);
      if (message.error !== undefined) {
        if (message.result !== undefined) {
          throw new ProtocolError(ErrorCode.UnencodableMessage, "A Completion carries a result or an error, not both.");
        }
        return [message.type, headers, message.invocationId, ResultKind.Error, message.error];
      }
      // Compare with undefined, not truthiness: 0, false and "" are results (older clients got this wrong).
      return message.result === undefined
        ? [message.type, headers, message.invocationId, ResultKind.Void]
        : [message.type, headers, message.invocationId, ResultKind.Value, message.result];
    }
    case MessageType.CancelInvocation:
      return [message.type, headersOf(message.headers), message.invocationId];
    case MessageType.Close:
      return message.allowReconnect === undefined ? [message.type, message.error ?? null] : [message.type, message.error ?? null, message.allowReconnect];
    case MessageType.Ack:
    case MessageType.Sequence:
      return [message.type, message.sequenceId];
    default: {
      const unknown: never = message;
      throw new ProtocolError(ErrorCode.UnencodableMessage, `Cannot write a message of unknown type '${String((unknown as { type?: unknown }).type)}'.`);
    }
  }
}
