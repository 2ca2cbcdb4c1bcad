/**
 * The JSON hub protocol as the client needs it, and its default. The server's protocol
 * (`JsonHubProtocol` from `@hubwire/protocol`) is strict about every field because it faces
 * clients it cannot trust, and caps record sizes; the client faces the server it chose, reads
 * records of any size (as the official client does), and checks the fields it acts on, so that
 * bad data from a server closes the connection with a clear error instead of failing later. It
 * writes only messages the connection itself builds, so it writes them as they are, bytes as
 * base64 (as every SignalR server's JSON protocol reads `byte[]`).
 *
 * @module
 */
import { type HubMessage, type HubProtocol, type MessageParser, MessageType, TransferFormat } from "@hubwire/protocol";

/** What a connection needs of a hub protocol: the client never parses whole bodies itself. */
export type ClientProtocol = Pick<HubProtocol, "name" | "version" | "transferFormat" | "write"> & {
  /** A parser for one connection; the client reads each chunk whole (`push`). */
  createParser(): ClientMessageParser;
};

/** The part of a {@link MessageParser} the client uses. */
export type ClientMessageParser = Pick<MessageParser, "push" | "bufferedBytes">;

const separator = "\u001e";
const decoder = new TextDecoder();

const isOptionalString = (value: unknown) => value == null || typeof value === "string";

/**
 * One record as a message the connection handles; undefined for the types a client does not
 * receive (StreamInvocation, CancelInvocation) and for types newer than this client.
 * @throws Error for a record that is not JSON or a message whose fields the client would misread.
 */
function readMessage(record: string): HubMessage | undefined {
  let message: Record<string, unknown> | null = null;
  try {
    message = JSON.parse(record) as Record<string, unknown> | null;
  } catch {
    // Reported below as malformed, with the record, as anything else that is not a message.
  }
  const type = message?.type;
  let valid: boolean;
  switch (type) {
    case MessageType.Invocation:
      valid = typeof message!.target === "string" && Array.isArray(message!.arguments) && isOptionalString(message!.invocationId);
      break;
    case MessageType.StreamItem:
    case MessageType.Completion:
      valid = typeof message!.invocationId === "string" && isOptionalString(message!.error);
      break;
    case MessageType.Close:
      valid = isOptionalString(message!.error) && (message!.allowReconnect == null || typeof message!.allowReconnect === "boolean");
      break;
    case MessageType.Ack:
    case MessageType.Sequence:
      valid = Number.isSafeInteger(message!.sequenceId) && (message!.sequenceId as number) >= 0;
      break;
    default:
      // Ping needs nothing but its arrival; others are not for clients, or newer than this one.
      if (Number.isInteger(type)) return undefined;
      valid = false;
  }
  if (!valid) throw new Error(`The server sent a malformed message: ${record.slice(0, 100)}`);
  return message as unknown as HubMessage;
}

/** Splits text on the record separator; a record may span chunks. */
class JsonMessageParser implements ClientMessageParser {
  #pending = "";

  /** Characters of an unfinished record (UTF-16 units: close enough for a figure nothing caps). */
  get bufferedBytes(): number {
    return this.#pending.length;
  }

  push(chunk: string | Uint8Array): HubMessage[] {
    const records = (this.#pending + (typeof chunk === "string" ? chunk : decoder.decode(chunk))).split(separator);
    this.#pending = records.pop()!;
    const messages: HubMessage[] = [];
    for (const record of records) {
      const message = readMessage(record);
      if (message !== undefined) messages.push(message);
    }
    return messages;
  }
}

/** The JSON hub protocol for the client (the default of `HubConnection`). */
export class JsonClientProtocol implements ClientProtocol {
  readonly name = "json";
  readonly version = 2;
  readonly transferFormat = TransferFormat.Text;

  createParser(): ClientMessageParser {
    return new JsonMessageParser();
  }

  /** Bytes travel as base64 strings, as System.Text.Json writes `byte[]`; a `Date` as its ISO string. */
  write(message: HubMessage): string {
    return JSON.stringify(message, bytesAsBase64) + separator;
  }
}

/**
 * Writes a `Uint8Array` (or any view, or an `ArrayBuffer`) as base64. It reads the holder's own
 * value: a Node `Buffer`'s `toJSON` has already turned `value` into `{ type: "Buffer", data }`.
 */
function bytesAsBase64(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const original = this[key];
  const isView = ArrayBuffer.isView(original);
  if (!isView && !(original instanceof ArrayBuffer)) return value;
  const bytes = isView ? new Uint8Array(original.buffer, original.byteOffset, original.byteLength) : new Uint8Array(original as ArrayBuffer);
  let text = "";
  for (let offset = 0; offset < bytes.length; offset += 0x8000) text += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  return btoa(text);
}
