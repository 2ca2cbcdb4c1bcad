/**
 * What a message's payload (an Invocation's arguments, a StreamItem's item, a Completion's result)
 * may hold, checked the same way on the way in and on the way out: nested at most `maxDepth`
 * containers deep, counting the message itself as the first (System.Text.Json's `MaxDepth`, 64 in
 * ASP.NET Core), and no `__proto__` key, which some code that copies values by assignment turns
 * into a prototype swap. A refused payload fails its own call, not the connection: the error
 * carries the message's envelope.
 *
 * @module
 * @example
 * ```ts
 * import { checkPayload, readHubMessage } from "@hubwire/protocol";
 *
 * const message = readHubMessage(JSON.parse(record));
 * checkPayload(message, 64); // throws a ProtocolError with `envelope` set for arguments nested too deep
 * ```
 */

import { type HubMessage, MessageType } from "./messages.js";
import { type MessageEnvelope, ProtocolError } from "./protocol-error.js";
import * as ErrorCode from "./wire-error-codes.js";

/** The payload of a message, and the message's envelope; undefined for messages without one. */
function payloadOf(message: HubMessage): { readonly value: unknown; readonly envelope: MessageEnvelope } | undefined {
  switch (message.type) {
    case MessageType.Invocation:
    case MessageType.StreamInvocation:
      return { value: message.arguments, envelope: { type: message.type, invocationId: message.invocationId, target: message.target } };
    case MessageType.StreamItem:
      return { value: message.item, envelope: { type: message.type, invocationId: message.invocationId, target: undefined } };
    case MessageType.Completion:
      return { value: message.result, envelope: { type: message.type, invocationId: message.invocationId, target: undefined } };
    default:
      return undefined;
  }
}

/**
 * Checks a message's payload against the nesting limit and for `__proto__` keys. Bytes
 * (`Uint8Array`, a `Buffer`, any `ArrayBuffer` or view of one) and values with their own
 * `toJSON` (a `Date`) count as leaves.
 *
 * @returns whether the payload holds bytes anywhere (a text protocol must write them its own way).
 * @throws {ProtocolError} `NestingTooDeep` or `ForbiddenKey`, with the message's `envelope`.
 * @example
 * ```ts
 * const hasBytes = checkPayload({ type: MessageType.Completion, invocationId: "1", result }, 64);
 * ```
 */
export function checkPayload(message: HubMessage, maxDepth: number): boolean {
  const payload = payloadOf(message);
  if (payload === undefined) return false;
  try {
    // The message is the first level: its payload starts at the second.
    return checkValue(payload.value, 2, maxDepth);
  } catch (error) {
    const refused = error as ProtocolError;
    throw new ProtocolError(refused.code, refused.message, { envelope: payload.envelope });
  }
}

/**
 * Whether bytes are anywhere in `value`; throws past the depth limit or at a `__proto__` key.
 * A loop over a stack rather than recursion: a protocol may allow more levels than the call stack.
 */
function checkValue(value: unknown, depth: number, maxDepth: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  let hasBytes = false;
  const values: object[] = [value];
  const depths: number[] = [depth];
  while (values.length > 0) {
    const current = values.pop()!;
    const level = depths.pop()!;
    if (isBytes(current)) {
      hasBytes = true;
      continue;
    }
    if (level > maxDepth) throw nestedTooDeep(maxDepth);
    if (Array.isArray(current)) {
      for (const item of current) {
        if (typeof item === "object" && item !== null) values.push(item), depths.push(level + 1);
      }
      continue;
    }
    // A value with its own JSON form (a Date) is written as that form: a leaf here.
    if (typeof (current as { toJSON?: unknown }).toJSON === "function") continue;
    for (const key of Object.keys(current)) {
      if (key === "__proto__") throw forbiddenKey();
      const item = (current as Record<string, unknown>)[key];
      if (typeof item === "object" && item !== null) values.push(item), depths.push(level + 1);
    }
  }
  return hasBytes;
}

/** Bytes: written as MessagePack `bin`, or as a base64 string in JSON. */
export function isBytes(value: object): value is ArrayBufferView | ArrayBuffer {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer;
}

/** The error for a value nested deeper than `maxDepth`. */
export function nestedTooDeep(maxDepth: number): ProtocolError {
  return new ProtocolError(ErrorCode.NestingTooDeep, `The message nests deeper than ${maxDepth} levels.`);
}

/** The error for a `__proto__` key. */
export function forbiddenKey(): ProtocolError {
  return new ProtocolError(ErrorCode.ForbiddenKey, "The key '__proto__' is not allowed in a hub message.");
}
