/**
 * The hub server's core, the same on every runtime: mounts hubs and connection handlers at paths,
 * routes requests and WebSocket handshakes to them through the runtime seam
 * (`runtime/http-exchange.ts`, `runtime/runtime-websocket.ts`), sends from outside a hub, shuts
 * down. The runtimes' servers extend it: Node's `HubServer` (`node/node-hub-server.ts`) and Bun's
 * `BunHubServer` (`bun/bun-hub-server.ts`).
 *
 * @module
 */
import type { ClientMethods, HubContract } from "@hubwire/protocol";
import type { MeterProvider, TracerProvider } from "@opentelemetry/api";
import type { Authenticate } from "./auth.js";
import type { HubClients } from "./clients.js";
import { type ConnectionHandlerDefinition, ConnectionHandlerEndpoint } from "./connection-handler.js";
import { ConnectionLimiter, type ConnectionLimits } from "./connection-limits.js";
import { applyCors, type CorsOptions, originAllowList } from "./cors.js";
import type { HubFilter } from "./filters.js";
import type { ConnectionHandler } from "./handler-connection.js";
import { respondText } from "./http-request.js";
import type { GroupManager, HubDefinition } from "./hub.js";
import { HubEndpoint } from "./hub-endpoint.js";
import type { HubGateway } from "./hub-gateway.js";
import type { HubOptions } from "./hub-options.js";
import type { HubInspection } from "./inspection.js";
import type { HubLifetimeManager } from "./lifetime-manager.js";
import { defaultLogger, type Logger, redactingLogger } from "./logger.js";
import { MemoryLifetimeManager } from "./memory-lifetime-manager.js";
import { HubMetrics } from "./metrics.js";
import { monotonicNow } from "./monotonic-clock.js";
import type { HubPresence } from "./presence.js";
import { ReplayBudget } from "./replay-buffer.js";
import type { HttpExchange, HubRequest } from "./runtime/http-exchange.js";
import type { WebSocketHandshake } from "./runtime/runtime-websocket.js";

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
const peerAddress = (request: HubRequest): string | undefined => request.remoteAddress;

/** Options of a hub server (`createHubServer`, on every runtime). */
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
  /**
   * Where log lines go. Default: the console at `info` and above (failures, start-up and
   * shutdown); `HUBWIRE_LOG=debug` (or `DEBUG=hubwire:*`) adds connects, disconnects and each
   * invocation, `HUBWIRE_LOG=silent` turns it off. Tokens never appear in a line.
   */
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
  /**
   * Where the server's spans go (OpenTelemetry): one per hub method call, connect and disconnect,
   * named as ASP.NET Core's SignalR server names them (docs/observability.md). Default: the global
   * TracerProvider, a no-op until the app installs an SDK.
   */
  readonly tracerProvider?: TracerProvider;
  /** Caps on connections, in all and per client address (429/503 before anything is allocated). Default: none. */
  readonly limits?: ConnectionLimits;
  /**
   * The client's address for a request: what the per-address cap counts and what
   * `ctx.request.remoteAddress` shows. Default the TCP peer's address, which behind a reverse proxy
   * is the proxy's. Read a forwarded address only from a proxy you run, and take the entry that
   * proxy appended (the last one): earlier entries are whatever the client sent.
   *
   * @example
   * ```ts
   * createHubServer({
   *   hubs,
   *   limits: { maxConnectionsPerAddress: 100 },
   *   // Behind one proxy that appends the peer's address to X-Forwarded-For:
   *   clientAddress: (request) => String(request.headers["x-forwarded-for"] ?? "").split(",").at(-1)?.trim() || request.remoteAddress,
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
  negotiate(exchange: HttpExchange, query: URLSearchParams): Promise<void>;
  /** `search`: the query string, without its `?`. */
  handleHttp(exchange: HttpExchange, search: string): void;
  openWebSocket(request: HubRequest, query: URLSearchParams, handshake: WebSocketHandshake): Promise<void>;
  stopAccepting(): void;
  drain(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Sends to a hub's clients and manages its groups from outside the hub. */
export interface HubContext<TContract extends HubContract> {
  readonly clients: HubClients<ClientMethods<TContract>>;
  readonly groups: GroupManager;
  /**
   * Who is online across every node: users, a user's connections, a group's members and counts,
   * and events when a user comes online or goes offline. Throws when the hub's lifetime manager
   * does not track presence.
   */
  readonly presence: HubPresence;
}

/**
 * Serves hubs on any runtime through the seam; a runtime's server extends it with that runtime's
 * entry points.
 *
 * @example
 * ```ts
 * class MyRuntimeHubServer extends HubServerCore {
 *   onRequest(request: MyRequest): void {
 *     if (!this.handle(new MyExchange(request))) request.respond(404);
 *   }
 * }
 * ```
 */
export class HubServerCore {
  readonly #endpoints = new Map<string, MountedEndpoint>();
  /** The same endpoints by {@link routeKey}: paths match as ASP.NET Core routing matches them. */
  readonly #byRoute = new Map<string, MountedEndpoint>();
  readonly #byHub = new Map<HubDefinition<HubContract>, HubEndpoint>();
  readonly #allowList: ReadonlySet<string>;
  /** Where the server's log lines go (redacting tokens). */
  protected readonly logger: Logger;
  readonly #replayBudget: ReplayBudget;

  constructor(options: HubServerOptions) {
    this.#replayBudget = new ReplayBudget(options.maxTotalReplayBytes ?? 64 * 1024 * 1024);
    this.#allowList = originAllowList(options.cors);
    this.logger = redactingLogger(options.logger ?? defaultLogger());
    const context = {
      hubOptions: options.hubOptions,
      authenticate: options.authenticate,
      filters: options.filters ?? [],
      logger: this.logger,
      originAllowList: this.#allowList,
      createLifetimeManager: options.lifetimeManager ?? (() => new MemoryLifetimeManager({ logger: this.logger })),
      now: options.now ?? monotonicNow,
      maxFrameBytes: options.maxFrameBytes ?? 1024 * 1024,
      replayBudget: this.#replayBudget,
      limiter: new ConnectionLimiter(options.limits),
      clientAddress: options.clientAddress ?? peerAddress,
      metrics: new HubMetrics(options.meterProvider),
      tracerProvider: options.tracerProvider,
    };
    for (const [path, hub] of Object.entries(options.hubs ?? {})) {
      const endpoint = this.#mount(path, (checked) => new HubEndpoint(checked, hub as HubDefinition, context));
      if (!this.#byHub.has(hub)) this.#byHub.set(hub, endpoint);
    }
    for (const [path, handler] of Object.entries(options.connectionHandlers ?? {})) {
      this.#mount(path, (checked) => new ConnectionHandlerEndpoint(checked, handler, context));
    }
    this.logger.log("info", "Hubwire is serving.", { paths: this.paths });
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
   * Handles an HTTP request if it is for a hub (negotiate, the HTTP transports, CORS preflight);
   * returns false, touching nothing, otherwise.
   *
   * @example
   * ```ts
   * if (!hubs.handle(exchange)) exchange.respond(404, { "Content-Length": "0" });
   * ```
   */
  handle(exchange: HttpExchange): boolean {
    const route = this.#route(exchange.url);
    if (route === undefined) return false;
    if (applyCors(exchange, this.#allowList)) return true;
    const { endpoint, isNegotiate, search } = route;
    try {
      if (isNegotiate) endpoint.negotiate(exchange, new URLSearchParams(search)).catch((error: unknown) => this.#failed(exchange, endpoint.path, error));
      else endpoint.handleHttp(exchange, search);
    } catch (error) {
      this.#failed(exchange, endpoint.path, error);
    }
    return true;
  }

  /**
   * Handles a WebSocket handshake if it is for a hub, answering it through `handshake`; returns
   * false otherwise. The returned promise settles once the socket is open or refused.
   *
   * @example
   * ```ts
   * const opened = hubs.openWebSocket(request, { refuse: (status, text) => reject(status, text), accept: () => upgrade() });
   * if (opened === false) reject(404, "Not found");
   * ```
   */
  openWebSocket(request: HubRequest, handshake: WebSocketHandshake): false | Promise<void> {
    const route = this.#route(request.url);
    if (route === undefined || route.isNegotiate) return false;
    return route.endpoint.openWebSocket(request, new URLSearchParams(route.search), handshake);
  }

  /** Whether `url` names an endpoint that takes WebSockets (to check a handshake before anything costly). */
  protected servesWebSocketsAt(url: string): boolean {
    const route = this.#route(url);
    return route !== undefined && !route.isNegotiate;
  }

  #failed(exchange: HttpExchange, path: string, error: unknown): void {
    this.logger.log("error", "A hub request failed.", { path, error });
    respondText(exchange, 500, "Internal server error");
  }

  /** Sends to a hub's clients and manages its groups from outside the hub (HTTP routes, timers). */
  hubContext<TContract extends HubContract>(hub: HubDefinition<TContract>): HubContext<TContract> {
    const endpoint = this.#byHub.get(hub as HubDefinition<HubContract>);
    if (endpoint === undefined) throw new TypeError("That hub is not mounted on this server.");
    const manager = endpoint.manager;
    return {
      clients: endpoint.dispatcher.clients as HubClients<ClientMethods<TContract>>,
      groups: endpoint.dispatcher.groups,
      get presence(): HubPresence {
        if (manager.presence === undefined) throw new TypeError(`The lifetime manager of hub '${endpoint.name}' does not track presence.`);
        return manager.presence;
      },
    };
  }

  /**
   * The hub's gateway: how another stack (socket.io's server, in `@hubwire/socket.io`) connects
   * the clients it carries to this hub, which authenticates them, registers them and runs their
   * calls as it does a SignalR client's.
   *
   * @example
   * ```ts
   * const gateway = hubs.gateway(chat);
   * const admission = await gateway.admit({ request });
   * if (!("status" in admission)) gateway.connect("socket.io", client, admission, socket.id);
   * ```
   */
  gateway<TContract extends HubContract>(hub: HubDefinition<TContract>): HubGateway {
    const endpoint = this.#byHub.get(hub as HubDefinition<HubContract>);
    if (endpoint === undefined) throw new TypeError("That hub is not mounted on this server.");
    return endpoint.gateway;
  }

  /**
   * Looks into a hub across its nodes: nodes, connections, groups, message rates; disconnects a
   * connection or removes it from a group (inspection.ts).
   *
   * @example
   * ```ts
   * const page = await hubs.inspect(chat).connections({ limit: 20, search: "ada" });
   * ```
   */
  inspect<TContract extends HubContract>(hub: HubDefinition<TContract>): HubInspection {
    const endpoint = this.#byHub.get(hub as HubDefinition<HubContract>);
    if (endpoint === undefined) throw new TypeError("That hub is not mounted on this server.");
    return endpoint.inspection;
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
    const connections = endpoints.reduce((sum, endpoint) => sum + endpoint.connectionCount, 0);
    this.logger.log("info", "Hubwire is shutting down.", { connections, drainTimeoutMs: options.drainTimeoutMs ?? 5_000 });
    for (const endpoint of endpoints) endpoint.stopAccepting();
    await Promise.all(endpoints.map((endpoint) => endpoint.drain(options.drainTimeoutMs ?? 5_000)));
    await Promise.all(endpoints.map((endpoint) => endpoint.close()));
    this.logger.log("info", "Hubwire has shut down.");
  }

  /** The endpoint a URL names, and its query string; parsed only where more than `id` is read (see `queryParameter`). */
  #route(url: string): { endpoint: MountedEndpoint; isNegotiate: boolean; search: string } | undefined {
    const queryAt = url.indexOf("?");
    const path = routeKey(queryAt === -1 ? url : url.slice(0, queryAt));
    const endpoint = this.#byRoute.get(path);
    const negotiated = endpoint === undefined && path.endsWith("/negotiate") ? this.#byRoute.get(path.slice(0, -"/negotiate".length)) : undefined;
    if (endpoint === undefined && negotiated === undefined) return undefined;
    const search = queryAt === -1 ? "" : url.slice(queryAt + 1);
    return endpoint !== undefined ? { endpoint, isNegotiate: false, search } : { endpoint: negotiated!, isNegotiate: true, search };
  }
}
