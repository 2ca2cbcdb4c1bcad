/**
 * Every stable error code Hubwire reports, in one table. Codes never change once published:
 * match on them (or on an error's `name`), never on message text.
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
export const ErrorCode = {
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

/** One of the codes in {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
