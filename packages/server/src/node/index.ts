export { useHubsWithExpress } from "../adapters/express.js";
export { type FastifyLike, useHubsWithFastify } from "../adapters/fastify.js";
export {
  type CompressionOptions,
  createWebSocketEndpoint,
  type EndpointClose,
  type EndpointMessage,
  type EndpointRequest,
  type EndpointSocket,
  type WebSocketEndpoint,
  type WebSocketEndpointOptions,
  type WebSocketHandler,
} from "../websockets/websocket-endpoint.js";
export { NodeHttpExchange, NodeHubRequest, type NodeRequest, type NodeResponse } from "./node-http-exchange.js";
export { createHubServer, HubServer } from "./node-hub-server.js";
export { NodeWebSocket } from "./node-websocket.js";
