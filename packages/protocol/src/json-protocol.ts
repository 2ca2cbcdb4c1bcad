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
import { ProtocolDefaults, TransferFormat } from "./constants.js";
import { ErrorCode } from "./error-codes.js";
import { createMessageParser, parseWhole, type HubProtocol, type HubProtocolOptions, type MessageParser } from "./hub-protocol.js";
import { readHubMessage } from "./message-validation.js";
import { MessageType, type HubMessage } from "./messages.js";
import { isProtocolError, ProtocolError } from "./protocol-error.js";
import { TextRecordReader, writeTextRecord } from "./text-framing.js";

/** The SignalR JSON hub protocol. Stateless: one instance serves every connection. */
export class JsonHubProtocol implements HubProtocol {
  readonly name = "json";
  readonly version = 2;
  readonly transferFormat = TransferFormat.Text;
  readonly maxMessageBytes: number;
  readonly #unknownMessageTypes: "ignore" | "reject";

  constructor(options: HubProtocolOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? ProtocolDefaults.maxMessageBytes;
    this.#unknownMessageTypes = options.unknownMessageTypes ?? "ignore";
  }

  parse(input: string | Uint8Array): HubMessage[] {
    return parseWhole(this.createParser(), input, "Message is incomplete.");
  }

  createParser(): MessageParser {
    return createMessageParser(new TextRecordReader({ maxMessageBytes: this.maxMessageBytes }), readRecord, this.#unknownMessageTypes);
  }

  write(message: HubMessage): string {
    try {
      return writeTextRecord(JSON.stringify(toWireObject(message)));
    } catch (error) {
      if (isProtocolError(error)) throw error;
      throw new ProtocolError(
        ErrorCode.UnencodableMessage,
        `The message cannot be written as JSON: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

/** One JSON record as a checked hub message. */
function readRecord(record: string): HubMessage {
  let value: unknown;
  try {
    // The reviver costs a walk over the value, so it runs only when the key can be there at all.
    value = record.includes("__proto__") ? JSON.parse(record, refuseProtoKey) : JSON.parse(record);
  } catch (error) {
    if (isProtocolError(error)) throw error;
    throw new ProtocolError(ErrorCode.MalformedMessage, "The message is not valid JSON.", { cause: error });
  }
  return readHubMessage(value);
}

/**
 * JSON.parse makes `__proto__` an own key, which is harmless until some code copies it with
 * assignment (`Object.assign`, a deep merge) and so swaps a prototype. Refuse it outright, as
 * the MessagePack decoder does.
 */
function refuseProtoKey(key: string, value: unknown): unknown {
  if (key === "__proto__") {
    throw new ProtocolError(ErrorCode.ForbiddenKey, "The key '__proto__' is not allowed in a hub message.");
  }
  return value;
}

/**
 * The object JSON.stringify writes: known fields only, in SignalR's order, absent ones left out.
 * Copying also keeps a caller's extra properties off the wire.
 */
function toWireObject(message: HubMessage): object {
  switch (message.type) {
    case MessageType.Invocation:
    case MessageType.StreamInvocation:
      return {
        type: message.type,
        ...headersOf(message.headers),
        ...(message.invocationId === undefined ? {} : { invocationId: message.invocationId }),
        target: message.target,
        arguments: message.arguments,
        ...(message.streamIds === undefined || message.streamIds.length === 0 ? {} : { streamIds: message.streamIds }),
      };
    case MessageType.StreamItem:
      return { type: message.type, ...headersOf(message.headers), invocationId: message.invocationId, item: message.item };
    case MessageType.Completion:
      if (message.error !== undefined && message.result !== undefined) {
        throw new ProtocolError(ErrorCode.UnencodableMessage, "A Completion carries a result or an error, not both.");
      }
      return {
        type: message.type,
        ...headersOf(message.headers),
        invocationId: message.invocationId,
        ...(message.error === undefined ? {} : { error: message.error }),
        ...(message.result === undefined ? {} : { result: message.result }),
      };
    case MessageType.CancelInvocation:
      return { type: message.type, ...headersOf(message.headers), invocationId: message.invocationId };
    case MessageType.Ping:
      return { type: message.type };
    case MessageType.Close:
      return {
        type: message.type,
        ...(message.error === undefined ? {} : { error: message.error }),
        ...(message.allowReconnect === undefined ? {} : { allowReconnect: message.allowReconnect }),
      };
    case MessageType.Ack:
    case MessageType.Sequence:
      return { type: message.type, sequenceId: message.sequenceId };
    default:
      throw unknownTypeToWrite(message);
  }
}

function headersOf(headers: Readonly<Record<string, string>> | undefined): object {
  return headers === undefined || Object.keys(headers).length === 0 ? {} : { headers };
}

/** For a message whose `type` is outside the union (a caller's bug, or a cast). */
function unknownTypeToWrite(message: never): ProtocolError {
  return new ProtocolError(
    ErrorCode.UnencodableMessage,
    `Cannot write a message of unknown type '${String((message as { type?: unknown }).type)}'.`,
  );
}
