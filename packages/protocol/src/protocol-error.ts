/**
 * The error every decoder and encoder in this package throws for bad input.
 *
 * @module
 */
import type { ErrorCode } from "./error-codes.js";

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

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
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
