/**
 * The errors the client reports, each with a stable `name` and `code` (from the one table of
 * codes, `ErrorCode` in `@hubwire/protocol`): match on them (or `instanceof`), never on message text.
 *
 * @module
 * @example
 * ```ts
 * try {
 *   await connection.invoke("send", room, text);
 * } catch (error) {
 *   if (error instanceof HubError) showToast(error.message); // the server's own words
 * }
 * ```
 */

// Codes written out (checked against the table's type): the bundle does not carry the whole table.
import type { ErrorCode } from "@hubwire/protocol";

/** The server answered an invocation or a stream with an error. */
export class HubError extends Error {
  override readonly name = "HubError";
  readonly code = "HUBWIRE_SERVER_ERROR" satisfies ErrorCode;
}

/** A transport could not connect or failed; `transport` names it. */
export class TransportError extends Error {
  override readonly name = "TransportError";
  readonly code = "HUBWIRE_TRANSPORT_FAILED" satisfies ErrorCode;
  readonly transport: string;
  /** The HTTP status, when the failure was an HTTP answer. */
  readonly status: number | undefined;
  constructor(transport: string, message: string, status?: number) {
    super(`${transport}: ${message}`);
    this.transport = transport;
    this.status = status;
  }
}

/** An invocation, the handshake or the server did not answer in time. */
export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
  readonly code = "HUBWIRE_TIMEOUT" satisfies ErrorCode;
}

/** The connection is not connected, or closed while a call was pending. */
export class ConnectionClosedError extends Error {
  override readonly name = "ConnectionClosedError";
  readonly code = "HUBWIRE_CONNECTION_CLOSED" satisfies ErrorCode;
}
