/**
 * The HTTP connection layer at one path, as ASP.NET Core's `HttpConnectionDispatcher` is: negotiate,
 * the transport requests (a WebSocket handshake from any runtime, Server-Sent Events, long polling
 * and their POSTs and DELETE), admission (the connection caps, and the principal through
 * `admitPrincipal` in `auth.ts`), the registry of connections by token, and the timer that drives
 * their timeouts; a request for a token another node holds goes to `endpoint-routing.ts`. It
 * knows nothing of what the connections
 * carry: a hub ({@link HubEndpoint}) or an application's own messages (a connection handler)
 * makes the connections and reads them.
 *
 * @module
 */
import { TransportName } from "@hubwire/protocol";
import { type Authenticate, type AuthOutcome, admitPrincipal, describeRequest } from "./auth.js";
import type { TakenOver } from "./connection-keeping.js";
import type { ConnectionLimiter, Slot } from "./connection-limits.js";
import type { ConnectionRequest, Principal } from "./connection-request.js";
import {
  type ConnectionRouting,
  ForwardedExchange,
  type ForwardedRequest,
  type ForwardedResponse,
  type HeldConnection,
  type NegotiatedConnection,
  type RelayedRequest,
  type RelayedStream,
} from "./connection-routing.js";
import { EndpointRouting } from "./endpoint-routing.js";
import { queryParameter, refuse, respondText } from "./http-request.js";
import type { MaybePromise } from "./hub.js";
import type { HubOptions, ResolvedHubOptions } from "./hub-options.js";
import type { Logger } from "./logger.js";
import type { HubMetrics } from "./metrics.js";
import { isOriginAllowed } from "./origin-policy.js";
import { ReattachLinks } from "./reattach-links.js";
import { RelayedExchange } from "./relayed-exchange.js";
import type { ReplayBudget } from "./replay-buffer.js";
import type { HttpExchange, HubRequest } from "./runtime/http-exchange.js";
import type { WebSocketHandshake } from "./runtime/runtime-websocket.js";
import { LongPollingTransport } from "./transports/long-polling.js";
import { chooseNegotiateVersion, negotiateResponse, newConnectionId, queryValue } from "./transports/negotiate.js";
import { ServerSentEventsTransport } from "./transports/sse.js";
import type { Transport, TransportListener, TransportRequest } from "./transports/transport.js";
import { WebSocketTransport } from "./transports/websocket.js";

/** What every endpoint of a server shares. */
export interface EndpointContext {
  /** The server-wide options; each endpoint's own options win over them. */
  readonly hubOptions: HubOptions | undefined;
  readonly authenticate: Authenticate | undefined;
  readonly logger: Logger;
  readonly originAllowList: ReadonlySet<string>;
  readonly now: () => number;
  /** The largest WebSocket frame accepted (a frame may batch several messages). */
  readonly maxFrameBytes: number;
  /** Caps the bytes every stateful-reconnect buffer holds together. */
  readonly replayBudget: ReplayBudget;
  /** Connection caps shared by every endpoint of the server. */
  readonly limiter: ConnectionLimiter;
  /** The client's address for a request (the per-address cap and `ctx.request.remoteAddress`). */
  readonly clientAddress: (request: HubRequest) => string | undefined;
  readonly metrics: HubMetrics;
}

/** The state of a connection, as its endpoint sees it. */
export type ConnectionState = "negotiated" | "handshaking" | "connected" | "reconnecting" | "closed";

/** What the endpoint needs of a connection, whatever it carries. */
export interface EndpointConnection extends TransportListener {
  readonly connectionId: string;
  readonly connectionToken: string;
  readonly state: ConnectionState;
  /** When the current state began (for a negotiated connection: when negotiate made it). */
  readonly stateSince: number;
  readonly transport: Transport | undefined;
  readonly principal: Principal | undefined;
  /** Whether a new transport request of its kind with this connection's token resumes it (stateful reconnect). */
  readonly canReattach: boolean;
  /** Set by negotiate when both sides asked for stateful reconnect. */
  statefulReconnectNegotiated: boolean;
  /** The place under the server's connection limits it holds; freed when it ends. */
  slot: Slot | undefined;
  /** The transport it opened over; undefined until then. */
  readonly connectedOver: TransportName | undefined;
  /** When it opened (0 before). */
  readonly connectedAt: number;
  /** Whether it ended because a timeout passed. */
  readonly timedOut: boolean;
  attach(transport: Transport, request: ConnectionRequest, principal: Principal | undefined): void;
  reattach(transport: Transport, principal: Principal | undefined): void;
  /** Ends it without a word to the client. */
  abort(reason?: string): void;
  /** Ends it as its application ends connections when the server shuts down. */
  shutDown(): void;
  tick(now: number): void;
}

/** Who makes and reads an endpoint's connections: a hub, or a connection handler. */
export interface ConnectionApplication<TConnection extends EndpointConnection> {
  /** The name in log lines. */
  readonly name: string;
  /** A new connection with these ids (negotiate, or a WebSocket without one). */
  create(ids: { readonly connectionId: string; readonly connectionToken: string }): TConnection;
  /**
   * A connection taken over from a node that died (connection-keeping.ts), waiting for its client
   * to re-attach; undefined when it cannot be (a protocol this node does not speak). None: this
   * application's connections are never kept.
   */
  resume?(ids: { readonly connectionId: string; readonly connectionToken: string }, taken: TakenOver, request: ConnectionRequest): TConnection | undefined;
  /** Refuses a principal (403) at negotiate and at connect, when given. */
  readonly authorize: ((principal: Principal | undefined, request: ConnectionRequest) => MaybePromise<boolean>) | undefined;
  /** How requests for connections held by other nodes reach them (a backplane's); none: this node alone. */
  readonly routing?: ConnectionRouting | undefined;
}

/** What a request for a running connection asks of its transport. */
function requestKind(request: HubRequest): TransportRequest | undefined {
  switch (request.method) {
    case "GET":
      return wantsEventStream(request) ? "events" : "poll";
    case "POST":
      return "send";
    case "DELETE":
      return "delete";
    default:
      return undefined;
  }
}

/** A GET for Server-Sent Events rather than a long poll. */
function wantsEventStream(request: HubRequest): boolean {
  const accept = request.headers["accept"];
  return typeof accept === "string" && accept.includes("text/event-stream");
}

/**
 * One path's connections. Created by the hub server for each hub and connection handler.
 *
 * @example
 * ```ts
 * const endpoint = new ConnectionEndpoint("/chat", options, context, application);
 * endpoint.negotiate(exchange, query);
 * ```
 */
export class ConnectionEndpoint<TConnection extends EndpointConnection> {
  readonly path: string;
  readonly #options: ResolvedHubOptions;
  readonly #context: EndpointContext;
  readonly #application: ConnectionApplication<TConnection>;
  /** How requests for connections other nodes hold are routed; none: this node alone. */
  readonly #router: EndpointRouting<TConnection> | undefined;
  /** Connections by secret token (by id for negotiate version 0). */
  readonly #byToken = new Map<string, TConnection>();
  /** The link each stateful connection re-attached over HTTP is on (reattach-links.ts). */
  readonly #links: ReattachLinks;
  /** Tokens whose transport request is being authenticated: a second one gets 409. */
  readonly #claimed = new Set<string>();
  /** Transports of ended connections that still tell their client of the end (a long poll's last answers). */
  readonly #draining = new Map<string, { transport: Transport; until: number }>();
  readonly #timer: ReturnType<typeof setInterval>;
  #closing = false;

  constructor(path: string, options: ResolvedHubOptions, context: EndpointContext, application: ConnectionApplication<TConnection>) {
    this.path = path;
    this.#options = options;
    this.#context = context;
    this.#application = application;
    this.#links = new ReattachLinks(context.logger);
    // One timer visits every connection and its transport; its period bounds how late a ping or a
    // timeout can be (a long poll's, and a POST body's idle limit, the client timeout, included).
    const o = options;
    const tickMs = Math.max(
      5,
      Math.min(o.keepAliveIntervalMs, o.clientTimeoutMs, o.handshakeTimeoutMs, o.disconnectTimeoutMs, o.statefulReconnectWindowMs, o.longPollTimeoutMs) / 10,
    );
    this.#timer = setInterval(() => this.#tick(), tickMs).unref();
    const routing = application.routing;
    this.#router =
      routing &&
      new EndpointRouting(routing, {
        path,
        logger: context.logger,
        maxFrameBytes: context.maxFrameBytes,
        maxOutboundBufferBytes: options.maxOutboundBufferBytes,
        adopt: (request, token, negotiated) => this.#adopt(request, token, negotiated),
        resume: (request, token, taken) => this.#resume(request, token, taken),
        held: (token) => this.#byToken.get(token),
        handleHttp: (exchange, search) => this.handleHttp(exchange, search),
      });
    routing?.serve({
      find: (token) => this.#find(token),
      release: (token) => this.#release(token),
      handle: (request, signal) => this.#handleForwarded(request, signal),
      openRelayed: (request, handshake) => this.#openRelayed(request, handshake),
      streamRelayed: (request, stream) => this.#streamRelayed(request, stream),
    });
  }

  /** Connections known to this endpoint, negotiated or open. */
  get connectionCount(): number {
    return this.#byToken.size;
  }

  /** The connections known to this endpoint, negotiated or open. */
  connections(): Iterable<TConnection> {
    return this.#byToken.values();
  }

  /** Whether it has stopped taking connections. */
  get isClosing(): boolean {
    return this.#closing;
  }

  /** The connection opened over its transport (a hub's handshake, a handler's attach), or was taken over from a node that died. */
  opened(connection: TConnection): void {
    this.#context.metrics.connectionOpened(connection.connectedOver!);
  }

  /** The connection ended: it is forgotten, its slot freed; a transport still telling its client of the end is kept. */
  ended(connection: TConnection): void {
    this.#byToken.delete(connection.connectionToken);
    this.#links.forget(connection);
    connection.slot?.release();
    const transport = connection.connectedOver;
    if (transport !== undefined) {
      const status = this.#closing ? "app_shutdown" : connection.timedOut ? "timeout" : "normal_closure";
      this.#context.metrics.connectionEnded(transport, this.#context.now() - connection.connectedAt, status);
    }
    // After a timeout its client is gone: 404 at once, as .NET removes the connection then.
    if (connection.transport?.isDraining === true && !connection.timedOut) {
      this.#draining.set(connection.connectionToken, { transport: connection.transport, until: this.#context.now() + this.#options.disconnectTimeoutMs });
    }
  }

  /** `POST {path}/negotiate`. */
  async negotiate(exchange: HttpExchange, query: URLSearchParams): Promise<void> {
    exchange.discardBody();
    if (exchange.method !== "POST") return respondText(exchange, 405, "Only POST requests are allowed for negotiate.");
    if (this.#closing) {
      this.#context.metrics.connectionRefused("shutting_down");
      return respondText(exchange, 503, "The server is shutting down.");
    }
    const chosen = chooseNegotiateVersion(query, this.#options.minimumNegotiateVersion);
    if ("error" in chosen) return respondText(exchange, 200, JSON.stringify({ error: chosen.error }), "application/json");
    const slot = this.#admit(exchange);
    if ("status" in slot) return respondText(exchange, slot.status, slot.message);
    const auth = await this.#authenticate(exchange, query);
    if ("status" in auth) {
      slot.release();
      return respondText(exchange, auth.status, auth.message);
    }
    const connectionId = newConnectionId();
    const connection = this.#createConnection(connectionId, chosen.version === 0 ? connectionId : newConnectionId(), slot);
    // Offered only when both ask: a client that did not ask fails if the server says yes.
    connection.statefulReconnectNegotiated = this.#options.allowStatefulReconnect && queryValue(query, "useStatefulReconnect")?.toLowerCase() === "true";
    const body = negotiateResponse(chosen.version, connection, this.#options.transports, connection.statefulReconnectNegotiated);
    respondText(exchange, 200, JSON.stringify(body), "application/json");
  }

  /**
   * Any other HTTP request to `{path}`: the HTTP transports (long polling, SSE), their sends and
   * DELETE. `search` is the query string without its `?`: most of these requests read only `id`.
   */
  handleHttp(exchange: HttpExchange, search: string): void {
    const kind = requestKind(exchange);
    if (kind === undefined) return refuse(exchange, 405, `${exchange.method} requests are not allowed on a hub endpoint.`);
    const token = queryParameter(search, "id");
    if (token === null || token === "") return refuse(exchange, 400, "Connection ID required");
    const connection = this.#byToken.get(token);
    const transport = connection?.transport ?? (kind === "poll" ? this.#draining.get(token)?.transport : undefined);
    if (connection === undefined && transport !== undefined) {
      // An ended connection whose client still polls for the end.
      transport.handleRequest(kind, exchange);
      if (!transport.isDraining) this.#draining.delete(token);
      return;
    }
    if (connection === undefined) {
      if (this.#router === undefined) return refuse(exchange, 404, "No Connection with that ID");
      if (!(exchange instanceof ForwardedExchange || exchange instanceof RelayedExchange)) return void this.#router.route(exchange, search, kind, token);
      // Forwarded (or relayed) here by a node that lost a race to claim it, while this node's claim is under way.
      const adopting = this.#router.adopting(token);
      if (adopting === undefined) return refuse(exchange, 404, "No Connection with that ID");
      return void adopting.then(() => (this.#byToken.has(token) ? this.handleHttp(exchange, search) : refuse(exchange, 404, "No Connection with that ID")));
    }
    let link = 0;
    if (connection.canReattach) {
      link = ReattachLinks.of(search);
      const verdict = this.#links.judge(connection, link, kind);
      if (typeof verdict === "object") return refuse(exchange, verdict.status, verdict.message);
      if (kind === "delete" && transport === undefined && connection.connectedOver === TransportName.LongPolling) {
        // Its client ends it while it awaits its re-attach.
        exchange.discardBody();
        connection.abort();
        return respondText(exchange, 202);
      }
      if (verdict === "current" && transport !== undefined) return transport.handleRequest(kind, exchange);
    } else if (transport !== undefined) {
      return transport.handleRequest(kind, exchange);
    }
    if (kind === "poll" || kind === "events") {
      this.#startHttpTransport(connection, exchange, new URLSearchParams(search), kind, link).catch((error: unknown) => {
        this.#context.logger.log("error", "Starting an HTTP transport failed.", { path: this.path, error });
        respondText(exchange, 500, "Internal server error");
      });
      return;
    }
    refuse(
      exchange,
      400,
      kind === "send"
        ? connection.state === "reconnecting"
          ? "The connection lost its transport: re-attach one before sending."
          : "The connection has no transport yet: start one before sending."
        : "Cannot terminate this connection using the DELETE endpoint.",
    );
  }

  /** New negotiates and WebSockets are answered 503 from now on; open connections go on. */
  stopAccepting(): void {
    this.#closing = true;
  }

  /** Stops taking connections and ends the open ones as their application does at shutdown. */
  close(): void {
    this.#closing = true;
    clearInterval(this.#timer);
    for (const connection of [...this.#byToken.values()]) connection.shutDown();
  }

  /**
   * A WebSocket request to `{path}`, however its handshake travels (an HTTP/1.1 upgrade, an HTTP/2
   * stream, Bun's upgrade, a relay from another node): admits, authenticates, and accepts or
   * refuses it through `handshake`. `relayed`: it reached another node first, and is not routed again.
   */
  async openWebSocket(request: HubRequest, query: URLSearchParams, handshake: WebSocketHandshake, relayed = false): Promise<void> {
    if (!this.#options.transports.includes(TransportName.WebSockets)) {
      return handshake.refuse(404, "WebSockets transport not supported by this end point type");
    }
    if (this.#closing) {
      this.#context.metrics.connectionRefused("shutting_down");
      return handshake.refuse(503, "The server is shutting down.");
    }
    if (!isOriginAllowed(request, this.#context.originAllowList, true)) {
      return handshake.refuse(403, "The request's Origin is not allowed to open a WebSocket here.");
    }
    const token = query.get("id") ?? undefined;
    const limits = { maxMessageBytes: Math.max(this.#context.maxFrameBytes, this.#options.maxMessageBytes) };
    let connection: TConnection | undefined;
    if (token !== undefined) {
      connection = this.#byToken.get(token);
      // Claimed from the node that negotiated it, or relayed to the one that holds it; never twice.
      if (connection === undefined && this.#router !== undefined && !relayed) {
        const routed = await this.#router.webSocket(request, token, handshake, limits);
        if (routed === "answered") return;
        connection = routed;
      }
      if (connection === undefined) return handshake.refuse(404, "No Connection with that ID");
      if ((connection.state !== "negotiated" && !connection.canReattach) || this.#claimed.has(token)) {
        return handshake.refuse(409, "Another transport request is already active for this connection.");
      }
      this.#claimed.add(token);
    }
    // skipNegotiation: a WebSocket without an id takes its connection slot now.
    let slot: Slot | undefined;
    if (token === undefined) {
      const admitted = this.#admit(request);
      if ("status" in admitted) return handshake.refuse(admitted.status, admitted.message);
      slot = admitted;
    }
    try {
      const auth = await this.#authenticate(request, query);
      if ("status" in auth) {
        slot?.release();
        return handshake.refuse(auth.status, auth.message);
      }
      connection ??= this.#createConnection(newConnectionId(), newConnectionId(), slot!);
      // A token holder may resume a connection only as the user who opened it.
      if (connection.canReattach && connection.principal?.userId !== auth.principal?.userId) {
        return handshake.refuse(403, "The connection belongs to another user.");
      }
      if (connection.canReattach && connection.connectedOver !== TransportName.WebSockets) {
        return handshake.refuse(400, "Cannot change transports mid-connection");
      }
      const webSocket = await handshake.accept(limits);
      if (webSocket === undefined) {
        if (token === undefined) connection.abort("The WebSocket handshake failed.");
        return;
      }
      const transport = new WebSocketTransport(webSocket, connection);
      if (connection.canReattach) connection.reattach(transport, auth.principal);
      else if (connection.state === "negotiated") connection.attach(transport, this.#describe(request), auth.principal);
      // It ended while the upgrade was under way (the reconnect window passed).
      else transport.close(1000);
    } finally {
      if (token !== undefined) this.#claimed.delete(token);
    }
  }

  /** Takes in a connection another node negotiated and released to this one; undefined (and answered) at a connection cap. */
  #adopt(request: HubRequest | HttpExchange, token: string, negotiated: NegotiatedConnection): TConnection | undefined {
    const existing = this.#byToken.get(token);
    if (existing !== undefined) return existing;
    const slot = this.#admit(request);
    if ("status" in slot) {
      if ("respond" in request) refuse(request, slot.status, slot.message);
      return undefined;
    }
    const connection = this.#createConnection(negotiated.connectionId, token, slot);
    connection.statefulReconnectNegotiated = negotiated.statefulReconnect;
    return connection;
  }

  /**
   * Takes in a connection whose node died, taken over from where it was kept; undefined at a
   * connection cap, or when the application cannot resume it (its store is then let go).
   */
  #resume(request: HubRequest, token: string, taken: TakenOver): TConnection | undefined {
    const existing = this.#byToken.get(token);
    if (existing !== undefined) return existing;
    const slot = this.#admit(request);
    if ("status" in slot) {
      taken.keeper.ended();
      return undefined;
    }
    const ids = { connectionId: taken.connection.connectionId, connectionToken: token };
    const connection = this.#application.resume?.(ids, taken, this.#describe(request));
    if (connection === undefined) {
      slot.release();
      taken.keeper.ended();
      this.#context.logger.log("error", "A connection whose node died could not be resumed here: this node does not speak its protocol.", {
        path: this.path,
        connectionId: ids.connectionId,
        protocol: taken.connection.protocol,
      });
      return undefined;
    }
    connection.slot = slot;
    this.#byToken.set(token, connection);
    this.#context.logger.log("info", "Took over a connection whose node died; its client re-attaches here.", {
      path: this.path,
      connectionId: ids.connectionId,
    });
    return connection;
  }

  /** What this node holds under a token, for another node's question. */
  #find(token: string): HeldConnection | undefined {
    const connection = this.#byToken.get(token);
    if (connection === undefined) return undefined;
    return connection.state === "negotiated" && !this.#claimed.has(token) ? "negotiated" : "attached";
  }

  /** Gives up a connection that has no transport yet, so that another node's transport request claims it. */
  #release(token: string): NegotiatedConnection | undefined {
    const connection = this.#byToken.get(token);
    if (connection === undefined || connection.state !== "negotiated" || this.#claimed.has(token)) return undefined;
    this.#byToken.delete(token);
    connection.slot?.release();
    return { connectionId: connection.connectionId, statefulReconnect: connection.statefulReconnectNegotiated };
  }

  /** A request forwarded from another node, run as if it had arrived here. */
  #handleForwarded(request: ForwardedRequest, signal: AbortSignal): Promise<ForwardedResponse> {
    const exchange = new ForwardedExchange(request, signal);
    const queryAt = request.url.indexOf("?");
    this.handleHttp(exchange, queryAt === -1 ? "" : request.url.slice(queryAt + 1));
    return exchange.answer;
  }

  /** A WebSocket relayed from another node (a re-attach that reached it), opened as if it had arrived here. */
  #openRelayed(request: RelayedRequest, handshake: WebSocketHandshake): Promise<void> {
    const queryAt = request.url.indexOf("?");
    const query = new URLSearchParams(queryAt === -1 ? "" : request.url.slice(queryAt + 1));
    return this.openWebSocket({ ...request, httpVersion: "1.1", native: undefined }, query, handshake, true);
  }

  /** An event stream relayed from another node (a re-attach that reached it), run as if it had arrived here. */
  #streamRelayed(request: RelayedRequest, stream: RelayedStream): void {
    const queryAt = request.url.indexOf("?");
    this.handleHttp(new RelayedExchange(request, stream), queryAt === -1 ? "" : request.url.slice(queryAt + 1));
  }

  /**
   * Starts a long-polling or event-stream transport: for a connection's first, or re-attached to a
   * stateful one on a newer `link` (its client gave up the link before, and the answers it lost
   * there are replayed).
   */
  async #startHttpTransport(connection: TConnection, exchange: HttpExchange, query: URLSearchParams, kind: "poll" | "events", link: number): Promise<void> {
    const name = kind === "events" ? TransportName.ServerSentEvents : TransportName.LongPolling;
    if (!this.#options.transports.includes(name)) return refuse(exchange, 404, `${name} transport not supported by this end point type`);
    const token = connection.connectionToken;
    if (this.#claimed.has(token)) return refuse(exchange, 409, "Another transport request is already active for this connection.");
    this.#claimed.add(token);
    try {
      const auth = await this.#authenticate(exchange, query);
      if ("status" in auth) return refuse(exchange, auth.status, auth.message);
      const resuming = connection.state !== "negotiated";
      if (resuming) {
        if (!connection.canReattach) return refuse(exchange, 409, "Another transport request is already active for this connection.");
        if (connection.connectedOver !== name) return refuse(exchange, 400, "Cannot change transports mid-connection");
        // A request of the link that dropped is not a re-attach: served as one, its client would
        // never send its Sequence and everything it sent would be dropped. Refused, it re-attaches.
        const lost = this.#links.lostTransport(connection, link);
        if (lost !== undefined) return refuse(exchange, lost.status, lost.message);
        // A token holder may resume a connection only as the user who opened it.
        if (connection.principal?.userId !== auth.principal?.userId) return refuse(exchange, 403, "The connection belongs to another user.");
      }
      const limits = { maxBodyBytes: this.#context.maxFrameBytes, idleTimeoutMs: this.#options.clientTimeoutMs };
      const fail = (reason: string) => connection.abort(reason);
      const transport =
        kind === "events"
          ? new ServerSentEventsTransport(exchange, connection, limits, fail)
          : new LongPollingTransport(
              connection,
              { ...limits, pollTimeoutMs: this.#options.longPollTimeoutMs, maxQueuedBytes: this.#context.maxFrameBytes * 4, now: this.#context.now },
              fail,
              exchange,
            );
      if (resuming) {
        this.#links.attached(connection, link);
        connection.reattach(transport, auth.principal);
      } else {
        connection.attach(transport, this.#describe(exchange), auth.principal);
      }
    } finally {
      this.#claimed.delete(token);
    }
  }

  #authenticate(request: HubRequest, query: URLSearchParams): Promise<AuthOutcome> {
    return admitPrincipal(request, query, {
      authenticate: this.#context.authenticate,
      requireAuthentication: this.#options.requireAuthentication,
      authorize: this.#application.authorize,
      describe: (described) => this.#describe(described),
      logger: this.#context.logger,
      path: this.path,
    });
  }

  /** What a connection keeps of its request, with the client's address as the server reads it. */
  #describe(request: HubRequest): ConnectionRequest {
    return describeRequest(request, this.#context.clientAddress(request));
  }

  #admit(request: HubRequest): ReturnType<ConnectionLimiter["admit"]> {
    const slot = this.#context.limiter.admit(this.#context.clientAddress(request));
    if ("status" in slot) this.#context.metrics.connectionRefused(slot.status === 429 ? "address_limit" : "server_limit");
    return slot;
  }

  #createConnection(connectionId: string, connectionToken: string, slot: Slot): TConnection {
    const connection = this.#application.create({ connectionId, connectionToken });
    connection.slot = slot;
    this.#byToken.set(connectionToken, connection);
    return connection;
  }

  #tick(): void {
    const now = this.#context.now();
    for (const [token, draining] of this.#draining) if (draining.until <= now) this.#draining.delete(token);
    for (const connection of this.#byToken.values()) {
      if (connection.state === "negotiated") {
        if (now - connection.stateSince >= this.#options.disconnectTimeoutMs && !this.#claimed.has(connection.connectionToken)) {
          connection.abort("No transport connected within the disconnect timeout.");
        }
      } else {
        connection.transport?.tick?.(now);
        connection.tick(now);
      }
    }
  }
}
