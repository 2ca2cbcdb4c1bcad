/**
 * Finding the call a refused MessagePack record belongs to. When a record breaks a rule only
 * inside its payload (an Invocation's arguments, a StreamItem's item, a Completion's result), its
 * envelope is read element by element, so that the receiver can fail that one call and go on, as
 * the JSON protocol does. Runs only after a record was refused: the happy path never pays for it.
 *
 * @module
 */
import { type MessageEnvelope, MessageType, ProtocolError } from "@hubwire/protocol";
import { checkMessagePackBounds } from "./msgpack-bounds.js";

/** Where each message type keeps its payload in SignalR's positional array. */
const payloadIndex: Readonly<Record<number, number>> = {
  [MessageType.Invocation]: 4,
  [MessageType.StreamInvocation]: 4,
  [MessageType.StreamItem]: 3,
  [MessageType.Completion]: 4,
};

/**
 * `error` with the record's envelope when the fault lies in its payload; `error` as it is otherwise.
 *
 * @example
 * ```ts
 * catch (error) { throw withEnvelope(record, error, maxDepth, (bytes) => decoder.decode(bytes)); }
 * ```
 */
export function withEnvelope(record: Uint8Array, error: ProtocolError, maxDepth: number, decode: (bytes: Uint8Array) => unknown): ProtocolError {
  const starts: number[] = [];
  let faultAt: number | undefined;
  try {
    checkMessagePackBounds(record, maxDepth, starts);
  } catch {
    // The walk stopped inside the element it reached last.
    faultAt = starts.length - 1;
  }
  const element = (index: number): unknown => decode(record.subarray(starts[index], starts[index + 1] ?? record.length));
  try {
    const type = element(0);
    const payload = typeof type === "number" ? payloadIndex[type] : undefined;
    if (payload === undefined || starts.length <= payload) return error;
    // Without a fault in the structure, the decoder refused a value: find the element that holds it.
    if (faultAt === undefined) {
      for (let index = 0; index < starts.length; index++) {
        try {
          element(index);
        } catch {
          faultAt = index;
          break;
        }
      }
    }
    if (faultAt !== payload) return error;
    const invocationId = element(2);
    const target = type === MessageType.Invocation || type === MessageType.StreamInvocation ? element(3) : undefined;
    // Only an Invocation may go without an id (fire and forget): null stands for absent.
    const idIsValid = typeof invocationId === "string" || (invocationId === null && type === MessageType.Invocation);
    if (!idIsValid || (target !== undefined && typeof target !== "string")) return error;
    const envelope: MessageEnvelope = {
      type: type as MessageEnvelope["type"],
      invocationId: (invocationId as string | null) ?? undefined,
      target: target as string | undefined,
    };
    return new ProtocolError(error.code, error.message, { cause: error.cause, envelope });
  } catch {
    // The envelope itself cannot be read: the record stays a failure of the connection.
    return error;
  }
}
