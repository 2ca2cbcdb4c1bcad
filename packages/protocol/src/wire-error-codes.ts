/**
 * The protocol's own error codes (bad input on the wire, unwritable output): what the protocol's
 * readers and writers throw, one constant each. Read as `WireErrorCode.name` (this module's
 * namespace), so that a browser bundle carries only the codes its code can throw; `ErrorCode`
 * (error-codes.ts) holds them with every other package's codes.
 *
 * @module
 * @example
 * ```ts
 * import * as WireErrorCode from "./wire-error-codes.js";
 *
 * throw new ProtocolError(WireErrorCode.MessageTooLarge, "The message is too large.");
 * ```
 */

/** A record is larger than the configured maximum. */
export const MessageTooLarge = "HUBWIRE_MESSAGE_TOO_LARGE";
/** A record is not valid JSON, or not a decodable MessagePack value. */
export const MalformedMessage = "HUBWIRE_MALFORMED_MESSAGE";
/** A record decoded, but is not a hub message: a field is missing or of the wrong type. */
export const InvalidMessage = "HUBWIRE_INVALID_MESSAGE";
/** A record's `type` is a number this protocol version does not know. */
export const UnknownMessageType = "HUBWIRE_UNKNOWN_MESSAGE_TYPE";
/** Input ended inside a record (no record separator, or fewer bytes than the length prefix). */
export const IncompleteMessage = "HUBWIRE_INCOMPLETE_MESSAGE";
/** Text that is not valid UTF-8. */
export const InvalidUtf8 = "HUBWIRE_INVALID_UTF8";
/** A MessagePack VarInt length prefix that is longer than 5 bytes or over 2^31 - 1. */
export const InvalidLengthPrefix = "HUBWIRE_INVALID_LENGTH_PREFIX";
/** A MessagePack value nested deeper than allowed. */
export const NestingTooDeep = "HUBWIRE_NESTING_TOO_DEEP";
/** An object key that could reach a prototype (`__proto__`), refused wherever it appears. */
export const ForbiddenKey = "HUBWIRE_FORBIDDEN_KEY";
/** A handshake request or response that cannot be read. */
export const InvalidHandshake = "HUBWIRE_INVALID_HANDSHAKE";
/** A message that cannot be written (for example a value the protocol cannot represent). */
export const UnencodableMessage = "HUBWIRE_UNENCODABLE_MESSAGE";
