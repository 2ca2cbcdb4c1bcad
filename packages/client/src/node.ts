/**
 * `@hubwire/client` in Node (the `node` export condition picks this file): the same exports,
 * and where Node has no global WebSocket (Node 20), the WebSocket transport loads `ws` (an
 * optional dependency of this package) the first time it connects, as `@microsoft/signalr`
 * does. With a `WebSocket` option, or on Node 22+, `ws` is never loaded.
 *
 * @module
 * @example
 * ```ts
 * import { HubConnection } from "@hubwire/client"; // in Node 20: no WebSocket option needed
 *
 * const connection = new HubConnection("http://localhost:5000/chat");
 * await connection.start();
 * ```
 */
import { TransportError } from "./errors.js";
import type { WebSocketConstructor } from "./transports/transport.js";
import { setWebSocketFallback } from "./transports/websocket-class.js";

setWebSocketFallback(async () => {
  try {
    const ws = await import("ws");
    return ws.WebSocket as WebSocketConstructor;
  } catch (error) {
    throw new TransportError(
      "WebSockets",
      `This Node has no global WebSocket, and 'ws' could not be loaded (${(error as Error).message}): run 'npm install ws', or pass a WebSocket class as the WebSocket option.`,
    );
  }
});

export * from "./index.js";
