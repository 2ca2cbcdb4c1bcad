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

/**
 * The protocol's own codes (bad input on the wire, unwritable output): what the protocol's readers and
 * writers throw. Apart from {@link ErrorCode} only so that a browser bundle carries just these.
 */
export const WireErrorCode = {
  /** A record is larger than the configured maximum. */
  MessageTooLarge: "HUBWIRE_MESSAGE_TOO_LARGE",
  /** A record is not valid JSON, or not a decodable MessagePack value. */
  MalformedMessage: "HUBWIRE_MALFORMED_MESSAGE",
  /** A record decoded, but is not a hub message: a field is missing or of the wrong type. */
  InvalidMessage: "HUBWIRE_INVALID_MESSAGE",
  /** A record's `type` is a number this protocol version does not know. */
  UnknownMessageType: "HUBWIRE_UNKNOWN_MESSAGE_TYPE",
  /** Input ended inside a record (no record separator, or fewer bytes than the length prefix). */
  IncompleteMessage: "HUBWIRE_INCOMPLETE_MESSAGE",
  /** Text that is not valid UTF-8. */
  InvalidUtf8: "HUBWIRE_INVALID_UTF8",
  /** A MessagePack VarInt length prefix that is longer than 5 bytes or over 2^31 - 1. */
  InvalidLengthPrefix: "HUBWIRE_INVALID_LENGTH_PREFIX",
  /** A MessagePack value nested deeper than allowed. */
  NestingTooDeep: "HUBWIRE_NESTING_TOO_DEEP",
  /** An object key that could reach a prototype (`__proto__`), refused wherever it appears. */
  ForbiddenKey: "HUBWIRE_FORBIDDEN_KEY",
  /** A handshake request or response that cannot be read. */
  InvalidHandshake: "HUBWIRE_INVALID_HANDSHAKE",
  /** A message that cannot be written (for example a value the protocol cannot represent). */
  UnencodableMessage: "HUBWIRE_UNENCODABLE_MESSAGE",
} as const;

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
