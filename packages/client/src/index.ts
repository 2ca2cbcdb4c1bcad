export type { HubContract } from "@hubwire/protocol";
export { ConnectionClosedError, HubError, TimeoutError, TransportError } from "./errors.js";
export type { TransportName } from "./http-connection.js";
export {
  type ClientHandler,
  HubConnection,
  type HubConnectionOptions,
  type HubConnectionState,
  type InvokeMethodName,
  type StreamMethodName,
} from "./hub-connection.js";
export type { HubStream } from "./hub-stream.js";
export type { ClientMessageParser, ClientProtocol } from "./json-protocol.js";
export type { Logger } from "./logger.js";
export type { StatefulReconnect } from "./message-buffer.js";
export type { CallOptions } from "./pending-invocations.js";
export { delays, type RetryContext, type RetryPolicy } from "./reconnect-policy.js";
export type { Transport, WebSocketConstructor } from "./transports/transport.js";
