/**
 * Which WebSocket class the WebSocket transport uses: the one given as the `WebSocket` option,
 * else the global one (browsers, Node 22+), else, in Node 20, `ws`, which the Node entry point
 * (`node.ts`, chosen by the `node` export condition) registers as the fallback. Browser bundles
 * never see `ws`.
 *
 * @module
 * @example
 * ```ts
 * setWebSocketFallback(async () => (await import("ws")).WebSocket);
 * const WebSocketClass = await webSocketClass(options.WebSocket);
 * ```
 */
import { TransportError } from "../errors.js";
import type { WebSocketConstructor } from "./transport.js";

let fallback: (() => Promise<WebSocketConstructor>) | undefined;

/**
 * Sets where a WebSocket class comes from when there is no global one.
 *
 * @example
 * ```ts
 * setWebSocketFallback(async () => (await import("ws")).WebSocket);
 * ```
 */
export function setWebSocketFallback(load: () => Promise<WebSocketConstructor>): void {
  fallback = load;
}

/**
 * The class to use: `given`, else the global WebSocket, else the fallback; rejects with a
 * TransportError that says what to do when there is none.
 *
 * @example
 * ```ts
 * const WebSocketClass = await webSocketClass(undefined); // the global, or ws in Node 20
 * ```
 */
export async function webSocketClass(given: WebSocketConstructor | undefined): Promise<WebSocketConstructor> {
  const found = given ?? (globalThis.WebSocket as WebSocketConstructor | undefined) ?? (await fallback?.());
  if (found === undefined) {
    throw new TransportError("WebSockets", "There is no global WebSocket here: pass a WebSocket class as the WebSocket option (for example from 'ws').");
  }
  return found;
}
