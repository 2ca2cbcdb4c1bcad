/**
 * The hub server on Node: the core ({@link HubServerCore}) served by `node:http`, `node:https` or
 * `node:http2`, with WebSockets from `ws` over HTTP/1.1 upgrades and HTTP/2 extended CONNECT. It
 * plugs into a plain server with {@link HubServer.attach}, into Express or Connect as middleware,
 * and into Fastify through `adapters/fastify.ts`.
 *
 * @module
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { createHubServer } from "@hubwire/server";
 * import { chat } from "./chat-hub.js";
 *
 * const hubs = createHubServer({ hubs: { "/chat": chat }, cors: { origins: ["https://app.example.com"] } });
 * const server = createServer((request, response) => response.writeHead(404).end());
 * hubs.attach(server);
 * server.listen(5000);
 *
 * // From outside a hub (an HTTP route, a timer):
 * await hubs.hubContext(chat).clients.all.receive("system", "Deploying in 5 minutes.");
 * ```
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import { type Http2SecureServer, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, constants as http2Constants } from "node:http2";
import type { Server as HttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import { attachToServer } from "../adapters/node-http.js";
import { respondText } from "../http-request.js";
import { HubServerCore, type HubServerOptions } from "../hub-server-core.js";
import { rejectUpgrade } from "../websockets/upgrade-response.js";
import { WebSocketAcceptor } from "../websockets/websocket-acceptor.js";
import { NodeHttpExchange, NodeHubRequest, type NodeRequest, type NodeResponse } from "./node-http-exchange.js";
import { NodeWebSocket } from "./node-websocket.js";

function ignoreSocketError(): void {}

/** Serves hubs on Node; create it with {@link createHubServer}. */
export class HubServer extends HubServerCore {
  /** One `ws` acceptor per message limit (hubs may set their own). */
  readonly #acceptors = new Map<number, WebSocketAcceptor>();

  #acceptor(maxMessageBytes: number): WebSocketAcceptor {
    let acceptor = this.#acceptors.get(maxMessageBytes);
    if (acceptor === undefined) this.#acceptors.set(maxMessageBytes, (acceptor = new WebSocketAcceptor({ maxPayloadBytes: maxMessageBytes })));
    return acceptor;
  }

  /**
   * Handles a request if it is for a hub; returns false (and touches nothing) otherwise.
   *
   * @example
   * ```ts
   * createServer((request, response) => hubs.handleRequest(request, response) || app(request, response));
   * ```
   */
  handleRequest(request: NodeRequest, response: NodeResponse): boolean {
    return this.handle(new NodeHttpExchange(request, response));
  }

  /**
   * Handles a WebSocket upgrade if it is for a hub; returns false otherwise.
   *
   * @example
   * ```ts
   * server.on("upgrade", (request, socket, head) => hubs.handleUpgrade(request, socket, head) || socket.destroy());
   * ```
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    // Until ws owns the socket (or the refusal is written), a socket error must not crash the process.
    socket.on("error", ignoreSocketError);
    const opened = this.openWebSocket(new NodeHubRequest(request), {
      refuse: (status, message) => rejectUpgrade(socket, status, message),
      accept: async ({ maxMessageBytes }) => {
        const webSocket = await this.#acceptor(maxMessageBytes).accept(request, socket, head);
        if (webSocket === undefined) return undefined;
        // ws handles the socket's errors from here; the socket lives as long as the connection.
        socket.off("error", ignoreSocketError);
        return new NodeWebSocket(webSocket);
      },
    });
    if (opened === false) {
      socket.off("error", ignoreSocketError);
      return false;
    }
    opened.catch((error: unknown) => {
      this.logger.log("error", "A WebSocket upgrade failed.", { path: request.url, error });
      socket.destroy();
    });
    return true;
  }

  /**
   * Handles an HTTP/2 extended CONNECT (RFC 8441: a WebSocket on one stream) if it is for a hub;
   * returns false otherwise. {@link HubServer.attach} calls it for a `node:http2` server's
   * `connect` events.
   *
   * @example
   * ```ts
   * http2Server.on("connect", (request, response) => hubs.handleConnect(request, response) || response.writeHead(404).end());
   * ```
   */
  handleConnect(request: Http2ServerRequest, response: Http2ServerResponse): boolean {
    if (request.headers[":protocol"] !== "websocket" || !this.servesWebSocketsAt(request.url)) return false;
    const stream = response.stream;
    stream.on("error", ignoreSocketError);
    if (WebSocketAcceptor.refusedHttp2Version(stream, request.headers)) return true;
    const exchange = new NodeHttpExchange(request, response);
    const opened = this.openWebSocket(exchange, {
      refuse: (status, message) => respondText(exchange, status, message),
      // The client may have given up on the stream while it was authenticated.
      accept: ({ maxMessageBytes }) =>
        stream.destroyed || stream.closed ? undefined : new NodeWebSocket(this.#acceptor(maxMessageBytes).acceptHttp2Stream(stream)),
    });
    if (opened === false) return false;
    opened.catch((error: unknown) => {
      this.logger.log("error", "A WebSocket over HTTP/2 failed to open.", { path: request.url, error });
      stream.close(http2Constants.NGHTTP2_INTERNAL_ERROR);
    });
    return true;
  }

  /**
   * Serves the hubs on a `node:http`, `node:https` or `node:http2` server. Requests for other
   * paths still reach the server's own request listeners; upgrades for other paths are left to
   * other listeners, or refused with 400 when there are none.
   *
   * On an HTTP/2 server (`http2.createSecureServer`, with `allowHTTP1: true` for clients that
   * speak only HTTP/1.1, such as Node's) negotiate, Server-Sent Events and long polling run over
   * HTTP/2, and it announces extended CONNECT so that browsers open WebSockets as streams of the
   * same connection (RFC 8441). Serve the app's own HTTP/2 requests with a `'request'` handler
   * (Node's compatibility API), which the hubs wrap as on HTTP/1.1, not from `'stream'` events:
   * with a `'request'` listener in place, Node's compatibility layer answers every stream.
   *
   * @example
   * ```ts
   * const server = http2.createSecureServer({ key, cert, allowHTTP1: true });
   * hubs.attach(server);
   * server.listen(443);
   * ```
   */
  attach(server: HttpServer | HttpsServer | Http2Server | Http2SecureServer): this {
    attachToServer(server, this);
    return this;
  }

  /**
   * Express/Connect middleware: handles hub requests, passes the rest on. WebSocket upgrades do
   * not go through middleware: also call {@link HubServer.attach} on the HTTP server.
   *
   * @example
   * ```ts
   * app.use(hubs.middleware());
   * hubs.attach(app.listen(5000));
   * ```
   */
  middleware(): (request: IncomingMessage, response: ServerResponse, next: () => void) => void {
    return (request, response, next) => {
      if (!this.handleRequest(request, response)) next();
    };
  }
}

/**
 * Creates a hub server on Node.
 *
 * @example
 * ```ts
 * const hubs = createHubServer({ hubs: { "/chat": chat }, hubOptions: { enableDetailedErrors: true } });
 * ```
 */
export function createHubServer(options: HubServerOptions): HubServer {
  return new HubServer(options);
}
