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
  return new ProtocolError(
    ErrorCode.UnencodableMessage,
    `Cannot write a message of unknown type '${String((message as { type?: unknown }).type)}'.`,
  );
}
