/**
 * The hub server: mounts hubs at paths and routes HTTP requests and WebSocket upgrades to them.
 * It plugs into a plain `node:http`/`https` server with {@link HubServer.attach}, into Express or
 * Connect as middleware, and into Fastify through `adapters/fastify.ts`.
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
import type { ClientMethods, HubContract } from "@hubwire/protocol";
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import { constants as http2Constants, type Http2SecureServer, type Http2Server, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { Server as HttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import { attachToServer } from "./adapters/node-http.js";
import type { HubRequest, HubResponse } from "./http-request.js";
import type { Authenticate } from "./auth.js";
import type { HubClients } from "./clients.js";
import { applyCors, originAllowList, type CorsOptions } from "./cors.js";
import type { HubFilter } from "./filters.js";
import type { GroupManager, HubDefinition } from "./hub.js";
import { ConnectionHandlerEndpoint, type ConnectionHandlerDefinition } from "./connection-handler.js";
import type { ConnectionHandler } from "./handler-connection.js";
import { HubEndpoint } from "./hub-endpoint.js";
import type { HubOptions } from "./hub-options.js";
import type { HubLifetimeManager } from "./lifetime-manager.js";
import { redactingLogger, silentLogger, type Logger } from "./logger.js";
import { MemoryLifetimeManager } from "./memory-lifetime-manager.js";
import { ReplayBudget } from "./replay-buffer.js";
import { ConnectionLimiter, type ConnectionLimits } from "./connection-limits.js";
import { HubMetrics } from "./metrics.js";
import { monotonicNow } from "./monotonic-clock.js";
import type { MeterProvider } from "@opentelemetry/api";


/**
 * A path as routes compare it: decoded and lower case, as ASP.NET Core routing matches "the
 * decoded representation of the URL's path", case-insensitively (`/chatHub` is `/chathub`).
 */
function routeKey(path: string): string {
  let decoded = path;
  if (path.includes("%")) {
    try {
      decoded = decodeURIComponent(path);
    } catch {
      // Not valid percent-encoding: compared as it came.
    }
  }
  return decoded.toLowerCase();
}

/** The TCP peer's address: the default client address. */
const peerAddress = (request: HubRequest): string | undefined => request.socket.remoteAddress;

/** Options of {@link createHubServer}. */
export interface HubServerOptions {
  /** Hubs by path, e.g. `{ "/chat": chat }`. Negotiate is served at `{path}/negotiate`. */
  readonly hubs?: Readonly<Record<string, HubDefinition<HubContract>>>;
  /**
   * Endpoints without a hub, by path (ASP.NET Core's `MapConnectionHandler`): negotiate and the
   * three transports as for a hub, and the application reads and writes its own messages.
   *
   * @example
   * ```ts
   * createHubServer({
   *   connectionHandlers: {
   *     "/echo": async (connection) => {
   *       for await (const message of connection) connection.send(message.text());
   *     },
   *   },
   * });
   * ```
   */
  readonly connectionHandlers?: Readonly<Record<string, ConnectionHandler | ConnectionHandlerDefinition>>;
  /** Defaults for every hub; a hub's own options win. */
  readonly hubOptions?: HubOptions;
  /** Turns a request and its access token into a principal. Default: everyone is anonymous. */
  readonly authenticate?: Authenticate;
  /** Filters around every hub's invocations and lifecycle, outside the hubs' own. */
  readonly filters?: readonly HubFilter[];
  /** Where log lines go. Default: nowhere. */
  readonly logger?: Logger;
  /**
   * Origins allowed from browsers: CORS for negotiate and HTTP transports, and the WebSocket
   * origin check. Same-origin pages and non-browser clients (no `Origin`) are always allowed.
   */
  readonly cors?: CorsOptions;
  /** Creates each hub's lifetime manager (a Redis backplane, for example). Default: in memory. */
  readonly lifetimeManager?: (hubName: string) => HubLifetimeManager;
  /** The largest WebSocket frame accepted; a frame may batch several messages. Default 1 MiB. */
  readonly maxFrameBytes?: number;
  /** The most bytes all stateful-reconnect buffers may hold together. Default 64 MiB. */
  readonly maxTotalReplayBytes?: number;
  /**
   * Where the server's metrics go (OpenTelemetry). Default: the global MeterProvider, a no-op
   * until the app installs an SDK. Names in docs/reliability.md.
   */
  readonly meterProvider?: MeterProvider;
  /** Caps on connections, in all and per client address (429/503 before anything is allocated). Default: none. */
  readonly limits?: ConnectionLimits;
  /**
   * The client's address for a request: what the per-address cap counts and what
   * `ctx.request.remoteAddress` shows. Default the TCP peer's address, which behind a reverse proxy
   * is the proxy's. Read a forwarded address only from a proxy you run, and take the entry that
   * proxy appended (the last one): earlier entries are whatever the client sent. The request is
   * Node's `IncomingMessage`, or its `Http2ServerRequest` on an HTTP/2 server.
   *
   * @example
   * ```ts
   * createHubServer({
   *   hubs,
   *   limits: { maxConnectionsPerAddress: 100 },
   *   // Behind one proxy that appends the peer's address to X-Forwarded-For:
   *   clientAddress: (request) => String(request.headers["x-forwarded-for"] ?? "").split(",").at(-1)?.trim() || request.socket.remoteAddress,
   * });
   * ```
   */
  readonly clientAddress?: (request: HubRequest) => string | undefined;
  /**
   * The clock for timeouts and durations, in milliseconds from any fixed point. Default a
   * monotonic clock (`performance.now()` in whole milliseconds): a wall-clock jump cannot time
   * connections out, and the small whole numbers it gives are stored inside each connection
   * rather than as separate heap numbers.
   */
  readonly now?: () => number;
}

/** What the server routes to: a hub, or a connection handler. */
interface MountedEndpoint {
  readonly path: string;
  readonly connectionCount: number;
  negotiate(request: HubRequest, response: HubResponse, query: URLSearchParams): Promise<void>;
  handleHttp(request: HubRequest, response: HubResponse, query: URLSearchParams): void;
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, query: URLSearchParams): Promise<void>;
  handleConnect(request: Http2ServerRequest, response: Http2ServerResponse, query: URLSearchParams): Promise<void>;
  stopAccepting(): void;
  drain(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Sends to a hub's clients and manages its groups from outside the hub. */
export interface HubContext<TContract extends HubContract> {
  readonly clients: HubClients<ClientMethods<TContract>>;
  readonly groups: GroupManager;
}

/** Serves hubs; create it with {@link createHubServer}. */
export class HubServer {
  readonly #endpoints = new Map<string, MountedEndpoint>();
  /** The same endpoints by {@link routeKey}: paths match as ASP.NET Core routing matches them. */
  readonly #byRoute = new Map<string, MountedEndpoint>();
  readonly #byHub = new Map<HubDefinition<HubContract>, HubEndpoint>();
  readonly #allowList: ReadonlySet<string>;
  readonly #logger: Logger;
  readonly #replayBudget: ReplayBudget;

  constructor(options: HubServerOptions) {
    this.#replayBudget = new ReplayBudget(options.maxTotalReplayBytes ?? 64 * 1024 * 1024);
    this.#allowList = originAllowList(options.cors);
    this.#logger = redactingLogger(options.logger ?? silentLogger);
    const context = {
      hubOptions: options.hubOptions,
      authenticate: options.authenticate,
      filters: options.filters ?? [],
      logger: this.#logger,
      originAllowList: this.#allowList,
      createLifetimeManager: options.lifetimeManager ?? (() => new MemoryLifetimeManager()),
      now: options.now ?? monotonicNow,
      maxFrameBytes: options.maxFrameBytes ?? 1024 * 1024,
      replayBudget: this.#replayBudget,
      limiter: new ConnectionLimiter(options.limits),
      clientAddress: options.clientAddress ?? peerAddress,
      metrics: new HubMetrics(options.meterProvider),
    };
    for (const [path, hub] of Object.entries(options.hubs ?? {})) {
      const endpoint = this.#mount(path, (checked) => new HubEndpoint(checked, hub as HubDefinition, context));
      if (!this.#byHub.has(hub)) this.#byHub.set(hub, endpoint);
    }
    for (const [path, handler] of Object.entries(options.connectionHandlers ?? {})) {
      this.#mount(path, (checked) => new ConnectionHandlerEndpoint(checked, handler, context));
    }
  }

  /** Mounts an endpoint at a path that is well formed and not taken (whatever its case). */
  #mount<TEndpoint extends MountedEndpoint>(path: string, create: (path: string) => TEndpoint): TEndpoint {
    if (!path.startsWith("/") || path.endsWith("/") || path.includes("?")) {
      throw new TypeError(`Hub path '${path}' must start with '/' and end without '/' or a query.`);
    }
    const key = routeKey(path);
    const other = this.#byRoute.get(key);
    if (other !== undefined) throw new TypeError(`Paths '${other.path}' and '${path}' differ only in case, or are the same; paths match case-insensitively.`);
    const endpoint = create(path);
    this.#endpoints.set(path, endpoint);
    this.#byRoute.set(key, endpoint);
    return endpoint;
  }

  /** The mounted paths. */
  get paths(): string[] {
    return [...this.#endpoints.keys()];
  }

  /**
   * Handles a request if it is for a hub; returns false (and touches nothing) otherwise.
   *
   * @example
   * ```ts
   * createServer((request, response) => hubs.handleRequest(request, response) || app(request, response));
   * ```
   */
  handleRequest(request: HubRequest, response: HubResponse): boolean {
    const route = this.#route(request);
    if (route === undefined) return false;
    if (applyCors(request, response, this.#allowList)) return true;
    const { endpoint, isNegotiate, query } = route;
    const handled = isNegotiate ? endpoint.negotiate(request, response, query) : Promise.resolve(endpoint.handleHttp(request, response, query));
    handled.catch((error: unknown) => {
      this.#logger.log("error", "A hub request failed.", { path: endpoint.path, error });
      if (!response.headersSent) response.writeHead(500, { "Content-Type": "text/plain" });
      response.end("Internal server error");
    });
    return true;
  }

  /** Handles a WebSocket upgrade if it is for a hub; returns false otherwise. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const route = this.#route(request);
    if (route === undefined || route.isNegotiate) return false;
    route.endpoint.handleUpgrade(request, socket, head, route.query).catch((error: unknown) => {
      this.#logger.log("error", "A WebSocket upgrade failed.", { path: route.endpoint.path, error });
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
    if (request.headers[":protocol"] !== "websocket") return false;
    const route = this.#route(request);
    if (route === undefined || route.isNegotiate) return false;
    route.endpoint.handleConnect(request, response, route.query).catch((error: unknown) => {
      this.#logger.log("error", "A WebSocket over HTTP/2 failed to open.", { path: route.endpoint.path, error });
      response.stream.close(http2Constants.NGHTTP2_INTERNAL_ERROR);
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

  /** Sends to a hub's clients and manages its groups from outside the hub (HTTP routes, timers). */
  hubContext<TContract extends HubContract>(hub: HubDefinition<TContract>): HubContext<TContract> {
    const endpoint = this.#byHub.get(hub as HubDefinition<HubContract>);
    if (endpoint === undefined) throw new TypeError("That hub is not mounted on this server.");
    return {
      clients: endpoint.dispatcher.clients as HubClients<ClientMethods<TContract>>,
      groups: endpoint.dispatcher.groups,
    };
  }

  /** Bytes held for stateful reconnect across every hub of this server. */
  get replayBufferedBytes(): number {
    return this.#replayBudget.usedBytes;
  }

  /** Connections held by the hub at `path` (negotiated or open). */
  connectionCount(path: string): number {
    return this.#byRoute.get(routeKey(path))?.connectionCount ?? 0;
  }

  /**
   * Shuts down gracefully: new negotiates and WebSockets are answered 503 at once; calls already
   * received get up to `drainTimeoutMs` (default 5 s) to finish and send their results; then every
   * connection gets a Close that allows reconnecting (clients move to another node) and the
   * lifetime managers close. Call it on SIGTERM, before the HTTP server closes.
   *
   * @example
   * ```ts
   * process.once("SIGTERM", async () => {
   *   await hubs.close({ drainTimeoutMs: 10_000 });
   *   server.close();
   * });
   * ```
   */
  async close(options: { readonly drainTimeoutMs?: number } = {}): Promise<void> {
    const endpoints = [...this.#endpoints.values()];
    for (const endpoint of endpoints) endpoint.stopAccepting();
    await Promise.all(endpoints.map((endpoint) => endpoint.drain(options.drainTimeoutMs ?? 5_000)));
    await Promise.all(endpoints.map((endpoint) => endpoint.close()));
  }

  #route(request: HubRequest): { endpoint: MountedEndpoint; isNegotiate: boolean; query: URLSearchParams } | undefined {
    const url = request.url ?? "/";
    const queryAt = url.indexOf("?");
    const path = routeKey(queryAt === -1 ? url : url.slice(0, queryAt));
    const endpoint = this.#byRoute.get(path);
    const negotiated = endpoint === undefined && path.endsWith("/negotiate") ? this.#byRoute.get(path.slice(0, -"/negotiate".length)) : undefined;
    if (endpoint === undefined && negotiated === undefined) return undefined;
    const query = new URLSearchParams(queryAt === -1 ? "" : url.slice(queryAt + 1));
    return endpoint !== undefined ? { endpoint, isNegotiate: false, query } : { endpoint: negotiated!, isNegotiate: true, query };
  }
}

/**
 * Creates a hub server.
 *
 * @example
 * ```ts
 * const hubs = createHubServer({ hubs: { "/chat": chat }, hubOptions: { enableDetailedErrors: true } });
 * ```
 */
export function createHubServer(options: HubServerOptions): HubServer {
  return new HubServer(options);
}
