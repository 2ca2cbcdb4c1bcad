/**
 * A connection handler: an endpoint without a hub, as ASP.NET Core's `MapConnectionHandler`
 * mounts one. Clients negotiate and connect over WebSockets, Server-Sent Events or long polling as
 * to a hub (the official clients' connection layer works unchanged), and the application reads and
 * writes its own messages: no handshake, no hub protocol.
 *
 * @module
 * @example
 * ```ts
 * import { createHubServer } from "@hubwire/server";
 *
 * const hubs = createHubServer({
 *   hubs: {},
 *   connectionHandlers: {
 *     "/echo": async (connection) => {
 *       for await (const message of connection) connection.send(message.isBinary ? message.data : message.text());
 *     },
 *   },
 * });
 * ```
 */

import { ConnectionEndpoint, type EndpointContext } from "./connection-endpoint.js";
import type { ConnectionRequest, Principal } from "./connection-request.js";
import { type ConnectionHandler, HandlerConnection, type HandlerConnectionEvents } from "./handler-connection.js";
import type { MaybePromise } from "./hub.js";
import { type HubOptions, resolveHubOptions } from "./hub-options.js";
import type { HttpExchange, HubRequest } from "./runtime/http-exchange.js";
import type { WebSocketHandshake } from "./runtime/runtime-websocket.js";

/** The options a connection handler takes (a hub's, where they mean the same). */
export type ConnectionHandlerOptions = Pick<
  HubOptions,
  "transports" | "disconnectTimeoutMs" | "longPollTimeoutMs" | "clientTimeoutMs" | "maxMessageBytes" | "minimumNegotiateVersion" | "requireAuthentication"
>;

/** A connection handler with options. */
export interface ConnectionHandlerDefinition {
  readonly handler: ConnectionHandler;
  readonly options?: ConnectionHandlerOptions;
  /** Checked at negotiate and connect: false answers 403. */
  readonly authorize?: (principal: Principal | undefined, request: ConnectionRequest) => MaybePromise<boolean>;
}

/** Unread bytes a handler connection holds before it stops reading its client (.NET's default pipe size). */
const MAX_UNREAD_BYTES = 64 * 1024;

/** A mounted connection handler. Created by the hub server; not used directly. */
export class ConnectionHandlerEndpoint {
  readonly path: string;
  readonly #connections: ConnectionEndpoint<HandlerConnection>;

  constructor(path: string, entry: ConnectionHandler | ConnectionHandlerDefinition, context: EndpointContext) {
    this.path = path;
    const definition = typeof entry === "function" ? { handler: entry } : entry;
    if (typeof definition.handler !== "function") throw new TypeError(`The connection handler at '${path}' needs a handler function.`);
    // The server-wide hubOptions apply here as to every hub (requireAuthentication above all); the handler's own win.
    const options = resolveHubOptions(context.hubOptions, definition.options);
    const events: HandlerConnectionEvents = {
      opened: (connection) => this.#connections.opened(connection),
      ended: (connection) => this.#connections.ended(connection),
    };
    const settings = {
      handler: definition.handler,
      disconnectTimeoutMs: options.disconnectTimeoutMs,
      maxBufferedBytes: MAX_UNREAD_BYTES,
      logger: context.logger,
      name: path,
      now: context.now,
    };
    this.#connections = new ConnectionEndpoint(path, { ...options, allowStatefulReconnect: false }, context, {
      name: path,
      create: (ids) => new HandlerConnection(ids, settings, events),
      authorize: definition.authorize,
    });
  }

  get connectionCount(): number {
    return this.#connections.connectionCount;
  }

  negotiate(exchange: HttpExchange, query: URLSearchParams): Promise<void> {
    return this.#connections.negotiate(exchange, query);
  }

  handleHttp(exchange: HttpExchange, search: string): void {
    this.#connections.handleHttp(exchange, search);
  }

  /** A WebSocket request to `{path}`, however its handshake travels. */
  openWebSocket(request: HubRequest, query: URLSearchParams, handshake: WebSocketHandshake): Promise<void> {
    return this.#connections.openWebSocket(request, query, handshake);
  }

  stopAccepting(): void {
    this.#connections.stopAccepting();
  }

  /** Nothing to drain: a handler's work is its own. */
  drain(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.#connections.close();
  }
}
