export {
  ProtocolDefaults,
  RECORD_SEPARATOR,
  RECORD_SEPARATOR_CODE,
  TransferFormat,
  TransportFlags,
  TransportName,
} from "./constants.js";
export type {
  ClientMethods,
  HubContract,
  MethodArgs,
  MethodMap,
  MethodName,
  MethodResult,
  ServerMethods,
  StreamItemOf,
} from "./contract.js";
export { ErrorCode, hasErrorCode } from "./error-codes.js";
export {
  HandshakeReader,
  type HandshakeRecord,
  type HandshakeRequest,
  type HandshakeResponse,
  parseHandshakeRequest,
  parseHandshakeResponse,
  writeHandshakeRequest,
  writeHandshakeResponse,
} from "./handshake.js";
export { createMessageParser, type HubProtocol, type HubProtocolOptions, type MessageParser, parseWhole } from "./hub-protocol.js";
export { JsonHubProtocol, type JsonHubProtocolOptions } from "./json-protocol.js";
export { readHubMessage } from "./message-validation.js";
export {
  type AckMessage,
  type CancelInvocationMessage,
  type CloseMessage,
  type CompletionMessage,
  type HubMessage,
  type HubMessageWithHeaders,
  type InvocationMessage,
  isTrackableMessage,
  type MessageHeaders,
  MessageType,
  type PingMessage,
  type SequenceMessage,
  type StreamInvocationMessage,
  type StreamItemMessage,
} from "./messages.js";
export { checkPayload, isBytes } from "./payload-limits.js";
export { isProtocolError, type MessageEnvelope, ProtocolError } from "./protocol-error.js";
export {
  decodeUtf8,
  encodeUtf8,
  TextRecordReader,
  type TextRecordReaderOptions,
  utf8ByteLength,
  writeTextRecord,
} from "./text-framing.js";
