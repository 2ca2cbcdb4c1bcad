// The runtime-neutral public API: what every runtime's entry point exports (index.ts on Node,
// bun/index.ts on Bun), beside that runtime's own server.
export { HubServerCore, type HubContext, type HubServerOptions } from "./hub-server-core.js";
export {
  defineHub,
  type ArgumentSpec,
  type GroupManager,
  type HubCallContext,
  type HubDefinition,
  type HubDefinitionInput,
  type MaybePromise,
  type MethodDefinition,
  type MethodEntry,
  type MethodImplementation,
  type StandardSchemaLike,
} from "./hub.js";
export type { HubOptions, ProtocolName } from "./hub-options.js";
export type { CallerClients, ClientProxy, ClientResultOptions, ClientResultProxy, HubClients, SingleClientProxy } from "./clients.js";
export { ClientResultError, HubError, UnknownConnectionError, isHubError } from "./errors.js";
export type { HubFilter, HubInvocation } from "./filters.js";
// The contract type, so that a server needs no import from the protocol package (as the client).
export type { HubContract } from "@hubwire/protocol";
export { readAccessToken, type Authenticate, type AuthenticationRequest } from "./auth.js";
export type { ConnectionRequest, Principal } from "./connection-request.js";
export type { ConnectionHandlerDefinition, ConnectionHandlerOptions } from "./connection-handler.js";
export type { ConnectionContext, ConnectionHandler, ConnectionMessage } from "./handler-connection.js";
export type { HttpExchange, HttpHeaders, HubRequest, BodyReader } from "./runtime/http-exchange.js";
export type { RuntimeWebSocket, WebSocketHandshake, WebSocketListener } from "./runtime/runtime-websocket.js";
export type { ConnectionLimits } from "./connection-limits.js";
export type { CorsOptions } from "./cors.js";
export { consoleLogger, defaultLogger, levelFromEnvironment, silentLogger, type LogLevel, type Logger } from "./logger.js";
export type { HubLifetimeManager, LocalMembership, ManagedConnection, SendTarget } from "./lifetime-manager.js";
export {
  HubInspection,
  type ConnectionReport,
  type GatheredAnswers,
  type GroupReport,
  type InspectionRequest,
  type NodeAnswer,
  type NodeInspector,
  type NodeSummary,
  type Page,
  type PageQuery,
} from "./inspection.js";
export { MemoryLifetimeManager } from "./memory-lifetime-manager.js";
export { SerializedMessage } from "./serialized-message.js";
