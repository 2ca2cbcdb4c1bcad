export {
  HubConnection,
  type CallOptions,
  type ClientHandler,
  type HubConnectionOptions,
  type HubConnectionState,
  type HubStream,
  type InvokeMethodName,
  type StreamMethodName,
  type TransportName,
} from "./hub-connection.js";
export { ConnectionClosedError, HubError, TimeoutError, TransportError } from "./errors.js";
export { delays, type RetryContext, type RetryPolicy } from "./reconnect-policy.js";
export type { Logger } from "./logger.js";
export type { ClientMessageParser, ClientProtocol } from "./json-protocol.js";
export type { StatefulReconnect } from "./message-buffer.js";
export type { Transport, WebSocketConstructor } from "./transports/transport.js";
export type { HubContract } from "@hubwire/protocol";
