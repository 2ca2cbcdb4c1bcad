/**
 * The error every decoder and encoder in this package throws for bad input.
 *
 * @module
 */
import type { ErrorCode } from "./error-codes.js";
import type { MessageType } from "./messages.js";

/**
 * The message a refused payload belongs to. A record whose envelope could be read, but whose
 * payload (an Invocation's arguments, a StreamItem's item, a Completion's result) was refused,
 * carries it on its error: the receiver can then fail that one call, as SignalR fails a call whose
 * arguments do not bind, and go on reading the records after it.
 */
export interface MessageEnvelope {
  readonly type: typeof MessageType.Invocation | typeof MessageType.StreamInvocation | typeof MessageType.StreamItem | typeof MessageType.Completion;
  readonly invocationId: string | undefined;
  /** The method called (Invocation and StreamInvocation only). */
  readonly target: string | undefined;
}

/**
 * Bad input on the wire: thrown by `parse`, `write` and the handshake codec, never for a bug of
 * the caller's. `code` is stable; `message` is for people.
 *
 * @example
 * ```ts
 * import { ProtocolError, ErrorCode } from "@hubwire/protocol";
 *
 * throw new ProtocolError(ErrorCode.InvalidMessage, "Invocation 'target' must be a string.");
 * ```
 */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  readonly code: ErrorCode;
  /**
   * Set when only the record's payload was refused: the message it belongs to. The parser has
   * then skipped that record and can go on; without it, the stream is not usable any more.
   */
  readonly envelope: MessageEnvelope | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; envelope?: MessageEnvelope }) {
    super(message, options);
    this.code = code;
    this.envelope = options?.envelope;
  }
}

/**
 * True for a {@link ProtocolError}, including one from another copy of this package (matched by name).
 *
 * @example
 * ```ts
 * if (isProtocolError(error)) log.warn(error.code);
 * ```
 */
export function isProtocolError(error: unknown): error is ProtocolError {
  return (
    error instanceof ProtocolError ||
    (typeof error === "object" &&
      error !== null &&
      (error as { name?: unknown }).name === "ProtocolError" &&
      typeof (error as { code?: unknown }).code === "string")
  );
}
