// The runtime-neutral public API: what every runtime's entry point exports (index.ts on Node,
// bun/index.ts on Bun), beside that runtime's own server.

// The contract type, so that a server needs no import from the protocol package (as the client).
export type { HubContract } from "@hubwire/protocol";
export { type Authenticate, type AuthenticationRequest, readAccessToken } from "./auth.js";
export type { CallerClients, ClientProxy, ClientResultOptions, ClientResultProxy, HubClients, SingleClientProxy } from "./clients.js";
export type { ConnectionHandlerDefinition, ConnectionHandlerOptions } from "./connection-handler.js";
export type { ConnectionKeeper, ConnectionKeeping, KeptConnection, KeptIdentity, KeptMessage, TakenOver } from "./connection-keeping.js";
export type { ConnectionLimits } from "./connection-limits.js";
export type { ConnectionRequest, Principal } from "./connection-request.js";
export {
  type ConnectionRouting,
  type ForwardedRequest,
  type ForwardedResponse,
  type HeldConnection,
  type Located,
  type NegotiatedConnection,
  type RelayAnswer,
  type RelayedRequest,
  type RelayedStream,
  type RelaySocket,
  type RoutedEndpoint,
  RoutingError,
} from "./connection-routing.js";
export type { CorsOptions } from "./cors.js";
export { ClientResultError, HubError, isHubError, UnknownConnectionError } from "./errors.js";
export type { HubFilter, HubInvocation } from "./filters.js";
export type { ConnectionContext, ConnectionHandler, ConnectionMessage } from "./handler-connection.js";
export {
  type ArgumentSpec,
  defineHub,
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
export type { ConnectionTransport, HubConnectionContext } from "./hub-connection-context.js";
export {
  type AdmittedClient,
  type GatewayAdmission,
  type GatewayClient,
  GatewayConnection,
  type GatewayRequest,
  HubGateway,
} from "./hub-gateway.js";
export type { HubOptions, ProtocolName } from "./hub-options.js";
export { type HubContext, HubServerCore, type HubServerOptions } from "./hub-server-core.js";
export {
  type ConnectionReport,
  type GatheredAnswers,
  type GroupReport,
  HubInspection,
  type InspectionRequest,
  type NodeAnswer,
  type NodeInspector,
  type NodeSummary,
  type Page,
  type PageQuery,
} from "./inspection.js";
export type { HubLifetimeManager, LocalMembership, ManagedConnection, SendTarget } from "./lifetime-manager.js";
export { consoleLogger, defaultLogger, type Logger, type LogLevel, levelFromEnvironment, silentLogger } from "./logger.js";
export { MemoryLifetimeManager } from "./memory-lifetime-manager.js";
export { type HubPresence, type PresenceChange, type PresenceEntry, PresenceMap, type PresenceMember } from "./presence.js";
export type { BodyReader, HttpExchange, HttpHeaders, HubRequest } from "./runtime/http-exchange.js";
export type { RuntimeWebSocket, WebSocketHandshake, WebSocketListener } from "./runtime/runtime-websocket.js";
export { SerializedMessage } from "./serialized-message.js";
