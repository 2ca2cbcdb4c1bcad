/**
 * One hub mounted at one path: negotiate, the transport requests, the connections it holds and
 * the timer that drives their keep-alive and timeouts.
 *
 * @module
 */
import { TransportName, type HubProtocol } from "@hubwire/protocol";
import { MessagePackHubProtocol } from "@hubwire/protocol-msgpack";
import { JsonHubProtocol } from "@hubwire/protocol";
import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import { describeRequest, readAccessToken, type Authenticate } from "./auth.js";
import { HubConnection, type ConnectionEvents, type ConnectionRequest, type ConnectionSettings, type Principal } from "./connection.js";
import type { HubFilter } from "./filters.js";
import type { HubRequest, HubResponse } from "./http-request.js";
import type { HubDefinition } from "./hub.js";
import { HubDispatcher } from "./hub-dispatcher.js";
import { resolveHubOptions, type HubOptions, type ResolvedHubOptions } from "./hub-options.js";
import type { HubLifetimeManager } from "./lifetime-manager.js";
import type { Logger } from "./logger.js";
import type { HubMetrics } from "./metrics.js";
import type { ConnectionLimiter, Slot } from "./connection-limits.js";
import type { ReplayBudget } from "./replay-buffer.js";
import { chooseNegotiateVersion, negotiateResponse, newConnectionId, queryValue } from "./transports/negotiate.js";
import { LongPollingTransport } from "./transports/long-polling.js";
import { ServerSentEventsTransport } from "./transports/sse.js";
import { WebSocketTransport } from "./transports/websocket.js";
import { isOriginAllowed } from "./websockets/origin-policy.js";
import { rejectUpgrade } from "./websockets/upgrade-response.js";
import { WebSocketAcceptor } from "./websockets/websocket-acceptor.js";

/** What every endpoint of a server shares. */
export interface EndpointContext {
  readonly hubOptions: HubOptions | undefined;
  readonly authenticate: Authenticate | undefined;
  readonly filters: readonly HubFilter[];
  readonly logger: Logger;
  readonly originAllowList: ReadonlySet<string>;
  readonly createLifetimeManager: (hubName: string) => HubLifetimeManager;
  readonly now: () => number;
  /** The largest WebSocket frame accepted (a frame may batch several messages). */
  readonly maxFrameBytes: number;
  /** Caps the bytes every stateful-reconnect buffer holds together. */
  readonly replayBudget: ReplayBudget;
  /** Connection caps shared by every hub of the server. */
  readonly limiter: ConnectionLimiter;
  /** The client's address for a request (the per-address cap and `ctx.request.remoteAddress`). */
  readonly clientAddress: (request: HubRequest) => string | undefined;
  readonly metrics: HubMetrics;
}

type AuthOutcome = { readonly principal: Principal | undefined } | { readonly status: 401 | 403; readonly message: string };

function respond(response: HubResponse, status: number, body: string, contentType = "text/plain; charset=utf-8"): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  response.writeHead(status, { "Content-Type": contentType, "Cache-Control": "no-cache, no-store" }).end(body);
}

function ignoreSocketError(): void {}

/** A GET for Server-Sent Events rather than a long poll. */
function wantsEventStream(request: HubRequest): boolean {
  return request.headers.accept?.includes("text/event-stream") === true;
}

/** The two ends of a WebSocket handshake, over an HTTP/1.1 upgrade or an HTTP/2 stream. */
interface WebSocketHandshake {
  /** Answers with an HTTP status and a message; no WebSocket opens. */
  refuse(status: number, message: string): void;
  /** Completes the handshake: the socket, or undefined when the handshake failed (and is answered). */
  accept(): Promise<WebSocket | undefined> | WebSocket | undefined;
}

/** A mounted hub. Created by the hub server; not used directly. */
export class HubEndpoint {
  readonly path: string;
  readonly name: string;
  readonly options: ResolvedHubOptions;
  readonly manager: HubLifetimeManager;
  readonly dispatcher: HubDispatcher;
  readonly #hub: HubDefinition;
  readonly #context: EndpointContext;
  readonly #settings: ConnectionSettings;
  readonly #acceptor: WebSocketAcceptor;
  /** Connections by secret token (by id for negotiate version 0). */
  readonly #byToken = new Map<string, HubConnection>();
  /** Tokens whose transport request is being authenticated: a second one gets 409. */
  readonly #claimed = new Set<string>();
  /** Long-polling connections that ended, kept for a while so late polls drain and get 204. */
  readonly #ended = new Map<string, { transport: LongPollingTransport; until: number }>();
  readonly #timer: NodeJS.Timeout;
  #closing = false;

  /** What every connection of this endpoint reports to it: one object for all of them. */
  readonly #events: ConnectionEvents = {
    connected: (c) => {
      this.#context.metrics.connectionOpened(c.transport!.name);
      void this.dispatcher.connected(c);
    },
    message: (c, message) => this.dispatcher.message(c, message),
    refused: (c, envelope, error) => this.dispatcher.refused(c, envelope, error),
    callsAnswered: (c) => this.dispatcher.callsAnswered(c),
    closed: (c, error) => {
      this.#byToken.delete(c.connectionToken);
      c.slot?.release();
      const transport = c.connectedOver;
      if (transport !== undefined) {
        const status = this.#closing ? "app_shutdown" : c.timedOut ? "timeout" : "normal_closure";
        this.#context.metrics.connectionEnded(transport, this.#context.now() - c.connectedAt, status);
      }
      // A long-polling client learns of the end from a poll: what is still queued (the Close), then
      // 204. Until then its polls are answered; after that, and after a timeout, 404 as .NET does.
      if (c.transport instanceof LongPollingTransport && !c.transport.hasAnsweredEnd && !c.timedOut) {
        this.#ended.set(c.connectionToken, { transport: c.transport, until: this.#context.now() + this.options.disconnectTimeoutMs });
      }
      void this.dispatcher.disconnected(c, error, transport !== undefined);
    },
  };

  constructor(path: string, hub: HubDefinition, context: EndpointContext) {
    this.path = path;
    this.#hub = hub;
    this.#context = context;
    this.name = hub.name ?? path;
    this.options = resolveHubOptions(context.hubOptions, hub.options);
    this.manager = context.createLifetimeManager(this.name);
    const max = this.options.maxMessageBytes;
    const protocols = new Map<string, HubProtocol>();
    for (const name of this.options.protocols) {
      protocols.set(name, name === "json" ? new JsonHubProtocol({ maxMessageBytes: max }) : new MessagePackHubProtocol({ maxMessageBytes: max }));
    }
    this.#settings = {
      protocols,
      keepAliveIntervalMs: this.options.keepAliveIntervalMs,
      clientTimeoutMs: this.options.clientTimeoutMs,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs,
      disconnectTimeoutMs: this.options.disconnectTimeoutMs,
      maxOutboundBufferBytes: this.options.maxOutboundBufferBytes,
      maxMessageBytes: max,
      enableDetailedErrors: this.options.enableDetailedErrors,
      statefulReconnectBufferBytes: this.options.statefulReconnectBufferBytes,
      statefulReconnectWindowMs: this.options.statefulReconnectWindowMs,
      replayBudget: context.replayBudget,
      logger: context.logger,
      metrics: context.metrics,
      now: context.now,
    };
    this.dispatcher = new HubDispatcher({
      hub,
      hubName: this.name,
      options: this.options,
      serverFilters: context.filters,
      manager: this.manager,
      logger: context.logger,
      metrics: context.metrics,
    });
    this.#acceptor = new WebSocketAcceptor({ maxPayloadBytes: Math.max(context.maxFrameBytes, max) });
    // One timer visits every connection; its period bounds how late a ping or a timeout can be.
    const o = this.options;
    const tickMs = Math.max(
      5,
      Math.min(o.keepAliveIntervalMs, o.clientTimeoutMs, o.handshakeTimeoutMs, o.disconnectTimeoutMs, o.statefulReconnectWindowMs) / 10,
    );
    this.#timer = setInterval(() => this.#tick(), tickMs).unref();
  }

  /** Connections known to this endpoint, negotiated or open. */
  get connectionCount(): number {
    return this.#byToken.size;
  }

  /** `POST {path}/negotiate`. */
  async negotiate(request: HubRequest, response: HubResponse, query: URLSearchParams): Promise<void> {
    request.resume();
    if (request.method !== "POST") return respond(response, 405, "Only POST requests are allowed for negotiate.");
    if (this.#closing) {
      this.#context.metrics.connectionRefused("shutting_down");
      return respond(response, 503, "The server is shutting down.");
    }
    const chosen = chooseNegotiateVersion(query, this.options.minimumNegotiateVersion);
    if ("error" in chosen) return respond(response, 200, JSON.stringify({ error: chosen.error }), "application/json");
    const slot = this.#admit(request);
    if ("status" in slot) return respond(response, slot.status, slot.message);
    const auth = await this.#authenticate(request, query);
    if ("status" in auth) {
      slot.release();
      return respond(response, auth.status, auth.message);
    }
    const connectionId = newConnectionId();
    const connection = this.#createConnection(connectionId, chosen.version === 0 ? connectionId : newConnectionId(), slot);
    // Offered only when both ask: a client that did not ask fails if the server says yes.
    connection.statefulReconnectNegotiated =
      this.options.allowStatefulReconnect && queryValue(query, "useStatefulReconnect")?.toLowerCase() === "true";
    const body = negotiateResponse(chosen.version, connection, this.options.transports, connection.statefulReconnectNegotiated);
    respond(response, 200, JSON.stringify(body), "application/json");
  }

  /** Any other HTTP request to `{path}`: the HTTP transports (long polling, SSE) and their sends. */
  handleHttp(request: HubRequest, response: HubResponse, query: URLSearchParams): void {
    const method = request.method;
    if (method !== "GET" && method !== "POST" && method !== "DELETE") {
      request.resume();
      return respond(response, 405, `${method ?? "This"} requests are not allowed on a hub endpoint.`);
    }
    const token = query.get("id");
    if (token === null || token === "") {
      request.resume();
      return respond(response, 400, "Connection ID required");
    }
    const connection = this.#byToken.get(token);
    const ended = connection === undefined ? this.#ended.get(token) : undefined;
    if (ended !== undefined && method === "GET" && !wantsEventStream(request)) {
      ended.transport.poll(response);
      if (ended.transport.hasAnsweredEnd) this.#ended.delete(token);
      return;
    }
    if (connection === undefined) {
      request.resume();
      return respond(response, 404, "No Connection with that ID");
    }
    const transport = connection.transport;
    if (method === "GET") {
      if (transport === undefined) {
        this.#startHttpTransport(connection, request, response, query).catch((error: unknown) => {
          this.#context.logger.log("error", "Starting an HTTP transport failed.", { hub: this.name, error });
          respond(response, 500, "Internal server error");
        });
        return;
      }
      const wantsEvents = wantsEventStream(request);
      if (transport instanceof LongPollingTransport && !wantsEvents) return transport.poll(response);
      if (transport instanceof LongPollingTransport) return respond(response, 400, "Cannot change transports mid-connection");
      return respond(response, transport instanceof ServerSentEventsTransport ? 409 : 400, transport instanceof ServerSentEventsTransport ? "Another transport request is already active for this connection." : "Cannot change transports mid-connection");
    }
    if (method === "POST") {
      if (transport instanceof LongPollingTransport || transport instanceof ServerSentEventsTransport) return transport.post(request, response);
      request.resume();
      if (transport === undefined) return respond(response, 400, "The connection has no transport yet: start one before sending.");
      return respond(response, 405, "POST requests are not allowed for WebSocket connections.");
    }
    request.resume();
    if (!(transport instanceof LongPollingTransport)) {
      return respond(response, 400, "Cannot terminate this connection using the DELETE endpoint.");
    }
    connection.abort();
    respond(response, 202, "");
  }

  /** An HTTP/1.1 upgrade request to `{path}`. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, query: URLSearchParams): Promise<void> {
    // Until ws owns the socket (or the refusal is written), a socket error must not crash the process.
    socket.on("error", ignoreSocketError);
    return this.#openWebSocket(request, query, {
      refuse: (status, message) => rejectUpgrade(socket, status, message),
      accept: async () => {
        const webSocket = await this.#acceptor.accept(request, socket, head);
        // ws handles the socket's errors from here; the socket lives as long as the connection.
        if (webSocket !== undefined) socket.off("error", ignoreSocketError);
        return webSocket;
      },
    });
  }

  /** An HTTP/2 extended CONNECT (RFC 8441) to `{path}`: a WebSocket on one stream of the session. */
  async handleConnect(request: Http2ServerRequest, response: Http2ServerResponse, query: URLSearchParams): Promise<void> {
    const stream = response.stream;
    stream.on("error", ignoreSocketError);
    if (WebSocketAcceptor.refusedHttp2Version(stream, request.headers)) return;
    return this.#openWebSocket(request, query, {
      refuse: (status, message) => respond(response, status, message),
      // The client may have given up on the stream while it was authenticated.
      accept: () => (stream.destroyed || stream.closed ? undefined : this.#acceptor.acceptHttp2Stream(stream)),
    });
  }

  /** Admits, authenticates and opens a WebSocket, however its handshake travels. */
  async #openWebSocket(request: HubRequest, query: URLSearchParams, handshake: WebSocketHandshake): Promise<void> {
    if (!this.options.transports.includes(TransportName.WebSockets)) {
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
    let connection: HubConnection | undefined;
    if (token !== undefined) {
      connection = this.#byToken.get(token);
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
      const webSocket = await handshake.accept();
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

  /** New negotiates and WebSockets are answered 503 from now on; open connections go on. */
  stopAccepting(): void {
    this.#closing = true;
  }

  /** Waits until the calls in flight have finished (their results sent), or `timeoutMs` passed. */
  async drain(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.dispatcher.whenIdle(), deadline]);
    clearTimeout(timer);
  }

  /**
   * Stops taking connections and closes the open ones with a Close message that allows
   * reconnecting (to another node, or to this one once it is back).
   */
  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#timer);
    for (const connection of [...this.#byToken.values()]) {
      connection.close({ error: "The server is shutting down.", allowReconnect: true });
    }
    await this.manager.close();
  }

  async #startHttpTransport(connection: HubConnection, request: HubRequest, response: HubResponse, query: URLSearchParams): Promise<void> {
    const wantsEvents = wantsEventStream(request);
    const name = wantsEvents ? TransportName.ServerSentEvents : TransportName.LongPolling;
    if (!this.options.transports.includes(name)) {
      request.resume();
      return respond(response, 404, `${name} transport not supported by this end point type`);
    }
    const token = connection.connectionToken;
    if (this.#claimed.has(token)) return respond(response, 409, "Another transport request is already active for this connection.");
    this.#claimed.add(token);
    try {
      const auth = await this.#authenticate(request, query);
      if ("status" in auth) return respond(response, auth.status, auth.message);
      if (connection.state !== "negotiated") return respond(response, 409, "Another transport request is already active for this connection.");
      const limits = { maxBodyBytes: this.#context.maxFrameBytes, idleTimeoutMs: this.options.clientTimeoutMs };
      const fail = (reason: string) => connection.abort(reason);
      if (wantsEvents) {
        connection.attach(new ServerSentEventsTransport(request, response, connection, limits, fail), this.#describe(request), auth.principal);
      } else {
        const transport = new LongPollingTransport(
          connection,
          { ...limits, pollTimeoutMs: this.options.longPollTimeoutMs, maxQueuedBytes: this.#context.maxFrameBytes * 4, now: this.#context.now },
          fail,
        );
        connection.attach(transport, this.#describe(request), auth.principal);
        transport.firstPoll(response);
      }
    } finally {
      this.#claimed.delete(token);
    }
  }

  async #authenticate(request: HubRequest, query: URLSearchParams): Promise<AuthOutcome> {
    let principal: Principal | undefined;
    if (this.#context.authenticate !== undefined) {
      try {
        principal = await this.#context.authenticate({ accessToken: readAccessToken(request, query), request });
      } catch (error) {
        this.#context.logger.log("warn", "Authentication threw; treating the request as unauthenticated.", { hub: this.name, error });
        principal = undefined;
      }
    }
    if (principal === undefined && this.options.requireAuthentication) return { status: 401, message: "Unauthorized" };
    const expiresAtMs = principal?.expiresAtMs;
    if (expiresAtMs !== undefined && !(expiresAtMs > Date.now())) {
      // Not a number (a token without `exp`, say) fails closed: it must not mean "never expires".
      if (!Number.isFinite(expiresAtMs)) {
        this.#context.logger.log("warn", "authenticate returned a principal whose expiresAtMs is not a finite number; refusing it.", { hub: this.name });
      }
      return { status: 401, message: "Unauthorized: the token has expired." };
    }
    if (this.#hub.authorize !== undefined && !(await this.#hub.authorize(principal, this.#describe(request)))) {
      return { status: 403, message: "Forbidden" };
    }
    return { principal };
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

  #createConnection(connectionId: string, connectionToken: string, slot: Slot): HubConnection {
    const connection = new HubConnection({ connectionId, connectionToken }, this.#settings, this.#events);
    connection.slot = slot;
    this.#byToken.set(connectionToken, connection);
    return connection;
  }

  #tick(): void {
    const now = this.#context.now();
    for (const [token, ended] of this.#ended) if (ended.until <= now) this.#ended.delete(token);
    for (const connection of this.#byToken.values()) {
      if (connection.state === "negotiated") {
        if (now - connection.stateSince >= this.options.disconnectTimeoutMs && !this.#claimed.has(connection.connectionToken)) {
          connection.abort("No transport connected within the disconnect timeout.");
        }
      } else {
        connection.tick(now);
      }
    }
  }
}
