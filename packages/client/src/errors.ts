/**
 * The errors the client reports, each with a stable `name`: match on `name` (or `instanceof`),
 * never on message text.
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

/** The server answered an invocation or a stream with an error. */
export class HubError extends Error {
  override readonly name = "HubError";
}

/** A transport could not connect or failed; `transport` names it. */
export class TransportError extends Error {
  override readonly name = "TransportError";
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
}

/** The connection is not connected, or closed while a call was pending. */
export class ConnectionClosedError extends Error {
  override readonly name = "ConnectionClosedError";
}
