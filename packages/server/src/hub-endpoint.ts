/**
 * One hub mounted at one path: the hub's side of its connections (the handshake, the dispatcher,
 * the lifetime manager) on top of the HTTP connection layer ({@link ConnectionEndpoint}) that
 * negotiates, carries and times them.
 *
 * @module
 */
import { type HubProtocol, JsonHubProtocol } from "@hubwire/protocol";
import { MessagePackHubProtocol } from "@hubwire/protocol-msgpack";
import type { TracerProvider } from "@opentelemetry/api";
import { type ConnectionEvents, type ConnectionSettings, HubConnection } from "./connection.js";
import { ConnectionEndpoint, type EndpointContext } from "./connection-endpoint.js";
import type { HubFilter } from "./filters.js";
import type { HubDefinition } from "./hub.js";
import { HubDispatcher } from "./hub-dispatcher.js";
import { type GatewayConnection, HubGateway } from "./hub-gateway.js";
import { type ResolvedHubOptions, resolveHubOptions } from "./hub-options.js";
import { type ConnectionReport, HubInspection, type InspectionRequest, type NodeAnswer, type NodeInspector, pageOf } from "./inspection.js";
import type { HubLifetimeManager } from "./lifetime-manager.js";
import type { HttpExchange, HubRequest } from "./runtime/http-exchange.js";
import type { WebSocketHandshake } from "./runtime/runtime-websocket.js";
import { HubTracing } from "./tracing.js";
import { TrafficTotals } from "./traffic.js";

/** What every hub of a server shares, beyond what every endpoint does. */
export interface HubEndpointContext extends EndpointContext {
  readonly filters: readonly HubFilter[];
  readonly createLifetimeManager: (hubName: string) => HubLifetimeManager;
  readonly tracerProvider: TracerProvider | undefined;
}

/** A mounted hub. Created by the hub server; not used directly. */
export class HubEndpoint {
  readonly path: string;
  readonly name: string;
  readonly options: ResolvedHubOptions;
  readonly manager: HubLifetimeManager;
  readonly dispatcher: HubDispatcher;
  readonly #connections: ConnectionEndpoint<HubConnection>;
  readonly #settings: ConnectionSettings;
  readonly #traffic: TrafficTotals;
  readonly #now: () => number;
  /** This hub across its nodes: connections, groups, rates, and two actions. */
  readonly inspection: HubInspection;
  /** Connections carried by another stack (socket.io's), served by this hub. */
  readonly gateway: HubGateway;

  /** What every connection of this hub reports to it: one object for all of them. */
  readonly #events: ConnectionEvents = {
    connected: (c) => {
      this.#connections.opened(c);
      void this.dispatcher.connected(c);
    },
    resumed: (c) => {
      this.#connections.opened(c);
      void this.dispatcher.resumed(c);
    },
    message: (c, message) => this.dispatcher.message(c, message),
    refused: (c, envelope, error) => this.dispatcher.refused(c, envelope, error),
    callsAnswered: (c) => this.dispatcher.callsAnswered(c),
    closed: (c, error) => {
      this.#connections.ended(c);
      void this.dispatcher.disconnected(c, error, c.connectedOver !== undefined);
    },
  };

  constructor(path: string, hub: HubDefinition, context: HubEndpointContext) {
    this.path = path;
    this.name = hub.name ?? path;
    this.options = resolveHubOptions(context.hubOptions, hub.options);
    this.manager = context.createLifetimeManager(this.name);
    const max = this.options.maxMessageBytes;
    const protocols = new Map<string, HubProtocol>();
    for (const name of this.options.protocols) {
      protocols.set(name, name === "json" ? new JsonHubProtocol({ maxMessageBytes: max }) : new MessagePackHubProtocol({ maxMessageBytes: max }));
    }
    this.#now = context.now;
    this.#traffic = new TrafficTotals(context.now);
    this.#settings = {
      traffic: this.#traffic,
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
      keeping: this.manager.routing?.keeping,
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
      tracing: new HubTracing(this.name, context.tracerProvider),
    });
    this.#connections = new ConnectionEndpoint(path, this.options, context, {
      name: this.name,
      create: (ids) => new HubConnection(ids, this.#settings, this.#events),
      resume: (ids, taken, request) => {
        const connection = new HubConnection(ids, this.#settings, this.#events);
        connection.request = request;
        return connection.restore(taken) ? connection : undefined;
      },
      authorize: hub.authorize,
      routing: this.manager.routing,
    });
    this.gateway = new HubGateway({
      hubName: this.name,
      dispatcher: this.dispatcher,
      admission: {
        authenticate: context.authenticate,
        requireAuthentication: this.options.requireAuthentication,
        authorize: hub.authorize,
        logger: context.logger,
        path,
      },
      clientAddress: context.clientAddress,
      protocols: [...protocols.values()],
      traffic: this.#traffic,
      metrics: context.metrics,
      logger: context.logger,
      now: context.now,
      // The invocation queue pauses at its own threshold; past this many more, the client is flooding.
      maxHeldCalls: 1_024,
      isAccepting: () => !this.#connections.isClosing,
    });
    const inspector: NodeInspector = { answer: (request) => this.#answer(request), disconnect: (id) => this.#disconnect(id) };
    this.manager.serveInspection?.(inspector);
    this.inspection = new HubInspection(inspector, this.manager);
  }

  /** This node's answer to an inspection: its counts and rates, and the pages asked for. */
  #answer(request: InspectionRequest): NodeAnswer {
    const nodeId = this.manager.nodeId ?? "local";
    const membership = this.manager.localMembership?.();
    const open: Array<HubConnection | GatewayConnection> = [...this.#connections.connections()].filter(
      (connection) => connection.state === "connected" || connection.state === "reconnecting",
    );
    open.push(...this.gateway.connections());
    const groups = [...(membership?.groups() ?? [])];
    const rates = this.#traffic.rates();
    const sinceEpoch = Date.now() - this.#now();
    const report = (connection: HubConnection | GatewayConnection): ConnectionReport => ({
      connectionId: connection.connectionId,
      userId: connection.userId ?? null,
      nodeId,
      transport: connection.connectedOver ?? "",
      protocol: connection.protocol?.name ?? "",
      connectedAt: Math.round(sinceEpoch + connection.connectedAt),
      groups: membership?.groupsOf(connection.connectionId) ?? [],
      messagesIn: connection.traffic.messagesIn,
      messagesOut: connection.traffic.messagesOut,
      bytesIn: connection.traffic.bytesIn,
      bytesOut: connection.traffic.bytesOut,
    });
    const { connections: connectionsQuery, groups: groupsQuery } = request;
    return {
      summary: {
        nodeId,
        connections: open.length,
        transports: countBy(open, (connection) => connection.connectedOver ?? "unknown"),
        groups: groups.length,
        messagesIn: this.#traffic.messagesIn,
        messagesOut: this.#traffic.messagesOut,
        ...rates,
      },
      connections:
        connectionsQuery === undefined
          ? []
          : pageOf(
              open,
              (connection) => connection.connectionId,
              (connection) => [connection.userId ?? null],
              connectionsQuery,
            ).map(report),
      groups:
        groupsQuery === undefined
          ? []
          : pageOf(
              groups,
              (group) => group.name,
              () => [],
              groupsQuery,
            ),
    };
  }

  /** Ends a connection this node holds, at an operator's request. */
  #disconnect(connectionId: string): boolean {
    const connections: Iterable<HubConnection | GatewayConnection> = [...this.#connections.connections(), ...this.gateway.connections()];
    for (const connection of connections) {
      if (connection.connectionId !== connectionId || ("state" in connection ? connection.state === "closed" : connection.isClosed)) continue;
      this.#settings.logger.log("info", "An operator disconnected a connection.", { hub: this.name, connectionId });
      connection.close({ error: "The server's operator ended the connection." });
      return true;
    }
    return false;
  }

  /** Connections known to this hub, negotiated or open. */
  get connectionCount(): number {
    return this.#connections.connectionCount + this.gateway.connectionCount;
  }

  /** `POST {path}/negotiate`. */
  negotiate(exchange: HttpExchange, query: URLSearchParams): Promise<void> {
    return this.#connections.negotiate(exchange, query);
  }

  /** Any other HTTP request to `{path}`: the HTTP transports (long polling, SSE) and their sends. */
  handleHttp(exchange: HttpExchange, search: string): void {
    this.#connections.handleHttp(exchange, search);
  }

  /** A WebSocket request to `{path}`, however its handshake travels. */
  openWebSocket(request: HubRequest, query: URLSearchParams, handshake: WebSocketHandshake): Promise<void> {
    return this.#connections.openWebSocket(request, query, handshake);
  }

  /** New negotiates and WebSockets are answered 503 from now on; open connections go on. */
  stopAccepting(): void {
    this.#connections.stopAccepting();
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
    this.#connections.close();
    this.gateway.close();
    await this.manager.close();
  }
}

/** How many items have each key. */
function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}
