export {
  MessageType,
  isTrackableMessage,
  type AckMessage,
  type CancelInvocationMessage,
  type CloseMessage,
  type CompletionMessage,
  type HubMessage,
  type HubMessageWithHeaders,
  type InvocationMessage,
  type MessageHeaders,
  type PingMessage,
  type SequenceMessage,
  type StreamInvocationMessage,
  type StreamItemMessage,
} from "./messages.js";
export {
  ProtocolDefaults,
  RECORD_SEPARATOR,
  RECORD_SEPARATOR_CODE,
  TransferFormat,
  TransportFlags,
  TransportName,
} from "./constants.js";
export { ErrorCode, hasErrorCode } from "./error-codes.js";
export { ProtocolError, isProtocolError, type MessageEnvelope } from "./protocol-error.js";
export { checkPayload, isBytes } from "./payload-limits.js";
export { createMessageParser, parseWhole, type HubProtocol, type HubProtocolOptions, type MessageParser } from "./hub-protocol.js";
export { readHubMessage } from "./message-validation.js";
export {
  TextRecordReader,
  decodeUtf8,
  encodeUtf8,
  utf8ByteLength,
  writeTextRecord,
  type TextRecordReaderOptions,
} from "./text-framing.js";
export {
  HandshakeReader,
  parseHandshakeRequest,
  parseHandshakeResponse,
  writeHandshakeRequest,
  writeHandshakeResponse,
  type HandshakeRecord,
  type HandshakeRequest,
  type HandshakeResponse,
} from "./handshake.js";
export { JsonHubProtocol, type JsonHubProtocolOptions } from "./json-protocol.js";
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
