// "@hubwire/server/bun": the core's API and Bun's server.
export * from "../api.js";
export { BunHubServer, createHubServer, type BunWebSocketHandlers } from "./bun-hub-server.js";
export { BunHttpExchange } from "./bun-http-exchange.js";
export { BunWebSocket } from "./bun-websocket.js";
export type { BunServerLike, BunServerWebSocket, BunSocketData } from "./bun-types.js";
