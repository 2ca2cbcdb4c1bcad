/**
 * Turns a decoded value (from JSON or MessagePack) into a checked {@link HubMessage}: lenient
 * about extra fields, strict about the fields a message has. Both protocols share it, so they
 * accept and refuse exactly the same messages.
 *
 * @module
 */

import {
  type CancelInvocationMessage,
  type CloseMessage,
  type CompletionMessage,
  type HubMessage,
  type InvocationMessage,
  type MessageHeaders,
  MessageType,
  type StreamInvocationMessage,
  type StreamItemMessage,
} from "./messages.js";
import * as ErrorCode from "./wire-error-codes.js";

/** A message under construction: its optional fields are set one by one. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

import { ProtocolError } from "./protocol-error.js";

function invalid(message: string): ProtocolError {
  return new ProtocolError(ErrorCode.InvalidMessage, message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== "string") throw invalid(`${what} must be a string.`);
  return value;
}

function optionalString(value: unknown, what: string): string | undefined {
  // null stands for "absent": MessagePack writes nil where JSON leaves a field out.
  return value === undefined || value === null ? undefined : requireString(value, what);
}

function requireArray(value: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(value)) throw invalid(`${what} must be an array.`);
  return value;
}

function optionalStreamIds(value: unknown, what: string): readonly string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const ids = requireArray(value, what);
  for (const id of ids) requireString(id, `Every entry of ${what}`);
  return ids.length === 0 ? undefined : (ids as readonly string[]);
}

function requireSequenceId(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${what} must be a non-negative integer.`);
  }
  return value;
}

/**
 * Checks headers and copies them into an object without a prototype, so that a `__proto__`
 * header stays a plain key wherever the headers go next.
 */
function optionalHeaders(value: unknown, what: string): MessageHeaders | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw invalid(`${what} must be a map of strings to strings.`);
  const keys = Object.keys(value);
  if (keys.length === 0) return undefined;
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const key of keys) headers[key] = requireString(value[key], `${what} '${key}'`);
  return headers;
}

/**
 * Reads one decoded record as a hub message.
 *
 * @throws {ProtocolError} `InvalidMessage` for a value that is not a hub message, and
 *   `UnknownMessageType` for an integer `type` this protocol does not know (callers may skip those,
 *   as SignalR does for forward compatibility).
 * @example
 * ```ts
 * const message = readHubMessage(JSON.parse('{"type":1,"target":"send","arguments":[1]}'));
 * ```
 */
export function readHubMessage(value: unknown): HubMessage {
  if (!isRecord(value)) throw invalid("A hub message must be an object.");
  const type = value["type"];
  if (typeof type !== "number" || !Number.isInteger(type)) throw invalid("'type' must be an integer.");
  // Optional fields are assigned only when present (absent ones stay absent), by name: this runs
  // for every message received, and named stores are cheaper than a loop over keys.
  switch (type) {
    case MessageType.Invocation: {
      const message: Mutable<InvocationMessage> = {
        type,
        target: requireString(value["target"], "Invocation 'target'"),
        arguments: requireArray(value["arguments"], "Invocation 'arguments'"),
      };
      const headers = optionalHeaders(value["headers"], "Invocation 'headers'");
      if (headers !== undefined) message.headers = headers;
      const invocationId = optionalString(value["invocationId"], "Invocation 'invocationId'");
      if (invocationId !== undefined) message.invocationId = invocationId;
      const streamIds = optionalStreamIds(value["streamIds"], "Invocation 'streamIds'");
      if (streamIds !== undefined) message.streamIds = streamIds;
      return message;
    }
    case MessageType.StreamInvocation: {
      const message: Mutable<StreamInvocationMessage> = {
        type,
        invocationId: requireString(value["invocationId"], "StreamInvocation 'invocationId'"),
        target: requireString(value["target"], "StreamInvocation 'target'"),
        arguments: requireArray(value["arguments"], "StreamInvocation 'arguments'"),
      };
      const headers = optionalHeaders(value["headers"], "StreamInvocation 'headers'");
      if (headers !== undefined) message.headers = headers;
      const streamIds = optionalStreamIds(value["streamIds"], "StreamInvocation 'streamIds'");
      if (streamIds !== undefined) message.streamIds = streamIds;
      return message;
    }
    case MessageType.StreamItem: {
      const message: Mutable<StreamItemMessage> = {
        type,
        invocationId: requireString(value["invocationId"], "StreamItem 'invocationId'"),
        item: value["item"],
      };
      const headers = optionalHeaders(value["headers"], "StreamItem 'headers'");
      if (headers !== undefined) message.headers = headers;
      return message;
    }
    case MessageType.Completion: {
      const message: Mutable<CompletionMessage> = {
        type,
        invocationId: requireString(value["invocationId"], "Completion 'invocationId'"),
      };
      const headers = optionalHeaders(value["headers"], "Completion 'headers'");
      if (headers !== undefined) message.headers = headers;
      const error = optionalString(value["error"], "Completion 'error'");
      const result = value["result"];
      if (error !== undefined && result !== undefined) {
        throw invalid("A Completion carries a result or an error, not both.");
      }
      if (error !== undefined) message.error = error;
      if (result !== undefined) message.result = result;
      return message;
    }
    case MessageType.CancelInvocation: {
      const message: Mutable<CancelInvocationMessage> = {
        type,
        invocationId: requireString(value["invocationId"], "CancelInvocation 'invocationId'"),
      };
      const headers = optionalHeaders(value["headers"], "CancelInvocation 'headers'");
      if (headers !== undefined) message.headers = headers;
      return message;
    }
    case MessageType.Ping:
      return { type };
    case MessageType.Close: {
      const allowReconnect = value["allowReconnect"];
      if (allowReconnect !== undefined && allowReconnect !== null && typeof allowReconnect !== "boolean") {
        throw invalid("Close 'allowReconnect' must be a boolean.");
      }
      const message: Mutable<CloseMessage> = { type };
      const error = optionalString(value["error"], "Close 'error'");
      if (error !== undefined) message.error = error;
      if (typeof allowReconnect === "boolean") message.allowReconnect = allowReconnect;
      return message;
    }
    case MessageType.Ack:
    case MessageType.Sequence:
      return { type, sequenceId: requireSequenceId(value["sequenceId"], `'sequenceId'`) };
    default:
      throw new ProtocolError(ErrorCode.UnknownMessageType, `Unknown message type '${type}'.`);
  }
}
