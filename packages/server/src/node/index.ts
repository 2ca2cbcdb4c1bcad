export { createHubServer, HubServer } from "./node-hub-server.js";
export { NodeHttpExchange, NodeHubRequest, type NodeRequest, type NodeResponse } from "./node-http-exchange.js";
export { NodeWebSocket } from "./node-websocket.js";
export { useHubsWithExpress } from "../adapters/express.js";
export { useHubsWithFastify, type FastifyLike } from "../adapters/fastify.js";
export {
  createWebSocketEndpoint,
  type CompressionOptions,
  type EndpointClose,
  type EndpointMessage,
  type EndpointRequest,
  type EndpointSocket,
  type WebSocketEndpoint,
  type WebSocketEndpointOptions,
  type WebSocketHandler,
} from "../websockets/websocket-endpoint.js";
