// "@hubwire/server/bun": the core's API and Bun's server.
export * from "../api.js";
export { BunHttpExchange } from "./bun-http-exchange.js";
export { BunHubServer, type BunWebSocketHandlers, createHubServer } from "./bun-hub-server.js";
export type { BunServerLike, BunServerWebSocket, BunSocketData } from "./bun-types.js";
export { BunWebSocket } from "./bun-websocket.js";
