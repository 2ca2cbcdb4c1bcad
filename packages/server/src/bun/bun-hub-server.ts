/**
 * The hub server on Bun: the core ({@link HubServerCore}) served by `Bun.serve`, with Bun's own
 * WebSockets. Give `Bun.serve` the server's `fetch` (before the app's routes) and its `websocket`
 * handlers.
 *
 * @module
 * @example
 * ```ts
 * import { createHubServer } from "@hubwire/server/bun";
 * import { chat } from "./chat-hub.js";
 *
 * const hubs = createHubServer({ hubs: { "/chat": chat } });
 * Bun.serve({
 *   port: 5000,
 *   fetch: (request, server) => hubs.fetch(request, server) ?? new Response("Not found", { status: 404 }),
 *   websocket: hubs.websocket,
 * });
 * ```
 */
import { HubServerCore, type HubServerOptions } from "../hub-server-core.js";
import { BunHttpExchange } from "./bun-http-exchange.js";
import type { BunServerLike, BunServerWebSocket, BunSocketData } from "./bun-types.js";
import { BunWebSocket } from "./bun-websocket.js";

/** `Bun.serve`'s `websocket` option, for the hubs' sockets. */
export interface BunWebSocketHandlers {
  open(socket: BunServerWebSocket): void;
  message(socket: BunServerWebSocket, message: string | Uint8Array): void;
  close(socket: BunServerWebSocket, code: number, reason: string): void;
  drain(socket: BunServerWebSocket): void;
  /** The largest message Bun reads; each endpoint checks its own limit below it. */
  readonly maxPayloadLength: number;
  /** Hubs ping on their own schedule (SignalR's keep-alive); Bun's idle timeout would cut them first. */
  readonly idleTimeout: number;
  readonly sendPings: boolean;
}

function isWebSocketRequest(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

const textPlain = { "Content-Type": "text/plain; charset=utf-8" };

/** Serves hubs on Bun; create it with {@link createHubServer}. */
export class BunHubServer extends HubServerCore {
  /**
   * `Bun.serve`'s `websocket` option.
   *
   * @example
   * ```ts
   * Bun.serve({ fetch: (request, server) => hubs.fetch(request, server), websocket: hubs.websocket });
   * ```
   */
  readonly websocket: BunWebSocketHandlers = {
    open: (socket) => socket.data.opened(socket),
    message: (socket, message) => socket.data.owner?.message(message),
    close: (socket, code, reason) => socket.data.owner?.closed(code, reason),
    drain: (socket) => socket.data.owner?.drained(),
    maxPayloadLength: 64 * 1024 * 1024,
    idleTimeout: 0,
    sendPings: false,
  };

  /**
   * Answers a request if it is for a hub (negotiate, the HTTP transports, a WebSocket upgrade):
   * a promise of its `Response` (undefined once upgraded); undefined, touching nothing, otherwise.
   *
   * @example
   * ```ts
   * fetch: (request, server) => hubs.fetch(request, server) ?? app.fetch(request),
   * ```
   */
  fetch(request: Request, server: BunServerLike): Promise<Response | undefined> | undefined {
    const exchange = new BunHttpExchange(request, server);
    if (!isWebSocketRequest(request)) return this.handle(exchange) ? exchange.response : undefined;
    let decide!: (response: Response | undefined) => void;
    const decision = new Promise<Response | undefined>((resolve) => (decide = resolve));
    const opened = this.openWebSocket(exchange, {
      refuse: (status, message) => decide(new Response(message, { status, headers: textPlain })),
      accept: ({ maxMessageBytes }) =>
        new Promise<BunWebSocket | undefined>((resolve) => {
          const data: BunSocketData = { maxMessageBytes, opened: (socket) => resolve(new BunWebSocket(socket)) };
          if (server.upgrade(request, { data })) return decide(undefined);
          decide(new Response("The WebSocket handshake is not valid.", { status: 400, headers: textPlain }));
          resolve(undefined);
        }),
    });
    if (opened === false) return undefined;
    opened.catch((error: unknown) => {
      this.logger.log("error", "A WebSocket upgrade failed.", { path: exchange.url, error });
      decide(new Response("Internal server error", { status: 500, headers: textPlain }));
    });
    return decision;
  }
}

/**
 * Creates a hub server on Bun.
 *
 * @example
 * ```ts
 * const hubs = createHubServer({ hubs: { "/chat": chat } });
 * Bun.serve({ port: 5000, fetch: (request, server) => hubs.fetch(request, server), websocket: hubs.websocket });
 * ```
 */
export function createHubServer(options: HubServerOptions): BunHubServer {
  return new BunHubServer(options);
}
