/**
 * Every stable error code Hubwire reports, in one table for all its packages: the protocol's
 * `ProtocolError`, the server's `HubError`, `ClientResultError` and `UnknownConnectionError`, the
 * Redis backplane's `BackplaneError`, the client's `HubError`, `TransportError`, `TimeoutError` and
 * `ConnectionClosedError` each carry one as `code`. Codes never change once published: match on
 * them (with {@link hasErrorCode} across copies of a package), never on message text.
 *
 * @module
 * @example
 * ```ts
 * import { ErrorCode, isProtocolError } from "@hubwire/protocol";
 *
 * try {
 *   protocol.parse(frame);
 * } catch (error) {
 *   if (isProtocolError(error) && error.code === ErrorCode.MessageTooLarge) closeWithError("too large");
 * }
 * ```
 */
import * as WireErrorCode from "./wire-error-codes.js";

/** Every code: the protocol's, then the server's, the backplane's and the client's. */
export const ErrorCode = /* @__PURE__ */ (() =>
  ({
    ...WireErrorCode,

    // The server (@hubwire/server).
    /** A hub method refused the call with a message meant for the caller (`HubError`). */
    HubError: "HUBWIRE_HUB_ERROR",
    /** A call's arguments do not fit its method: count, type or schema (SignalR's binding failure). */
    ArgumentBindingFailed: "HUBWIRE_ARGUMENT_BINDING_FAILED",
    /** A client could not answer a client-result invocation, or answered with an error. */
    ClientResultFailed: "HUBWIRE_CLIENT_RESULT_FAILED",
    /** An operation named a connection that no node of the hub holds. */
    UnknownConnection: "HUBWIRE_UNKNOWN_CONNECTION",

    // The Redis backplane (@hubwire/redis).
    /** A cross-node send could not be confirmed by Redis in time; other nodes may not have it. */
    BackplaneUnavailable: "HUBWIRE_BACKPLANE_UNAVAILABLE",

    // The client (@hubwire/client).
    /** The server answered an invocation or a stream with an error (the client's `HubError`). */
    ServerError: "HUBWIRE_SERVER_ERROR",
    /** A transport could not connect, or failed while connected. */
    TransportFailed: "HUBWIRE_TRANSPORT_FAILED",
    /** An invocation, the handshake or the server did not answer in time. */
    Timeout: "HUBWIRE_TIMEOUT",
    /** The connection is not connected, or closed while a call was pending. */
    ConnectionClosed: "HUBWIRE_CONNECTION_CLOSED",
  }) as const)();

/** One of the codes in {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * True when `error` carries `code`, whichever copy of whichever Hubwire package threw it.
 *
 * @example
 * ```ts
 * import { ErrorCode, hasErrorCode } from "@hubwire/protocol";
 *
 * try {
 *   await ctx.clients.group(room).receive(user, text);
 * } catch (error) {
 *   if (hasErrorCode(error, ErrorCode.BackplaneUnavailable)) return retryLater();
 *   throw error;
 * }
 * ```
 */
export function hasErrorCode(error: unknown, code: ErrorCode): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}
