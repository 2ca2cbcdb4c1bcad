/**
 * A hub's door for connections that another stack carries (socket.io's server, in
 * `@hubwire/socket.io`): the stack keeps its own transport, handshake and keep-alive, and the hub
 * keeps everything else. Such a connection is authenticated with the server's `authenticate` and
 * the hub's `authorize`, registered with the hub's lifetime manager (so groups, users, `hubContext`
 * sends and the Redis backplane reach it as they reach a SignalR client), and its calls go through
 * the same dispatcher, filters and error texts.
 *
 * @module
 */
import { type CompletionMessage, type HubMessage, type HubProtocol, isProtocolError, MessageType } from "@hubwire/protocol";
import { type AdmissionRules, admitPrincipal, describeRequest } from "./auth.js";
import { ClientResults } from "./client-results.js";
import type { ClientResultOptions } from "./clients.js";
import type { ConnectionRequest, Principal } from "./connection-request.js";
import { ErrorTexts } from "./error-texts.js";
import { ClientResultError } from "./errors.js";
import type { HubConnectionContext } from "./hub-connection-context.js";
import type { HubDispatcher } from "./hub-dispatcher.js";
import type { Logger } from "./logger.js";
import type { HubMetrics } from "./metrics.js";
import type { HubRequest } from "./runtime/http-exchange.js";
import type { SerializedMessage } from "./serialized-message.js";
import { ConnectionTraffic, type TrafficTotals } from "./traffic.js";

/** How a gateway reaches the client it carries. */
export interface GatewayClient {
  /**
   * Delivers a message: an Invocation of a client method (with an `invocationId` when the hub
   * awaits the client's result: answer it with {@link GatewayConnection.answer}), the Completion
   * of the client's call, or a StreamItem. Throws a `ProtocolError` for a value it cannot carry;
   * the hub then fails that call instead.
   */
  deliver(message: HubMessage): void;
  /**
   * Delivers a message shared with other connections. `decoded()` gives it as a hub message
   * (decoded once, however many connections ask), so a gateway may cache its own encoding on the
   * shared object. Default: `deliver(decoded())`.
   */
  deliverShared?(message: SerializedMessage, decoded: () => HubMessage): void;
  /** Ends the client's connection, telling it `error` if given; `allowReconnect` says whether it should come back. */
  end(options: { readonly error?: string; readonly allowReconnect?: boolean }): void;
}

/** The request a gateway's client connected with. */
export interface GatewayRequest {
  /** The HTTP request that opened it (its headers, address and query). */
  readonly request: HubRequest;
  /** The client's bearer token, where the gateway's own handshake carries it; else the request's is read. */
  readonly accessToken?: string;
}

/** A client the hub admitted: who it is, and what it keeps of its request. */
export interface AdmittedClient {
  readonly principal: Principal | undefined;
  readonly request: ConnectionRequest;
}

/** What asking to connect through a gateway came to: admitted, or refused with SignalR's status and text. */
export type GatewayAdmission = AdmittedClient | { readonly status: 401 | 403 | 503; readonly message: string };

/** What a hub lends its gateway. */
export interface GatewayHost {
  readonly hubName: string;
  readonly dispatcher: HubDispatcher;
  readonly admission: Omit<AdmissionRules, "describe">;
  readonly clientAddress: (request: HubRequest) => string | undefined;
  readonly protocols: readonly HubProtocol[];
  readonly traffic: TrafficTotals;
  readonly metrics: HubMetrics;
  readonly logger: Logger;
  readonly now: () => number;
  /** Calls held while the hub's queue for a connection is full, before the connection is closed. */
  readonly maxHeldCalls: number;
  readonly isAccepting: () => boolean;
}

/**
 * A hub's gateway: connects clients that another stack carries.
 *
 * @example
 * ```ts
 * const gateway = hubs.gateway(chat);
 * const admission = await gateway.admit({ request });
 * if ("status" in admission) return refuse(admission.status, admission.message);
 * const connection = gateway.connect("socket.io", client, admission, socket.id);
 * connection.invoke("send", ["hello"], "1"); // the Completion for "1" reaches client.deliver
 * ```
 */
export class HubGateway {
  readonly #host: GatewayHost;
  readonly #open = new Set<GatewayConnection>();

  constructor(host: GatewayHost) {
    this.#host = host;
  }

  /** The hub's name, for log lines. */
  get hubName(): string {
    return this.#host.hubName;
  }

  /** Where the server's log lines go: a gateway logs there too. */
  get logger(): Logger {
    return this.#host.logger;
  }

  /** How many connections are open through this gateway. */
  get connectionCount(): number {
    return this.#open.size;
  }

  /** The connections open through this gateway. */
  connections(): Iterable<GatewayConnection> {
    return this.#open;
  }

  /**
   * Authenticates and authorizes a client as a SignalR connection would be (the server's
   * `authenticate`, the hub's `authorize`): 401, 403 (and 503 while shutting down) with SignalR's
   * texts, or the admitted client to {@link HubGateway.connect}.
   */
  async admit(request: GatewayRequest): Promise<GatewayAdmission> {
    const host = this.#host;
    if (!host.isAccepting()) return { status: 503, message: "The server is shutting down." };
    const url = request.request.url;
    const query = new URLSearchParams(url.includes("?") ? url.slice(url.indexOf("?") + 1) : "");
    const described = (hubRequest: HubRequest): ConnectionRequest => describeRequest(hubRequest, host.clientAddress(hubRequest));
    const outcome = await admitPrincipal(request.request, query, { ...host.admission, describe: described }, request.accessToken);
    if ("status" in outcome) return outcome;
    if (!host.isAccepting()) return { status: 503, message: "The server is shutting down." };
    return { principal: outcome.principal, request: described(request.request) };
  }

  /**
   * Connects an admitted client: registers it with the hub's lifetime manager and runs
   * `onConnected` (its calls wait for that). `transport` names the stack (`ctx.transport`,
   * inspection); `connectionId` is the id the stack gave it.
   */
  connect(transport: string, client: GatewayClient, admitted: AdmittedClient, connectionId: string): GatewayConnection {
    const connection = new GatewayConnection(connectionId, transport, client, admitted.principal, admitted.request, this.#host, (closed) => {
      this.#open.delete(closed);
      const status = this.#host.isAccepting() ? "normal_closure" : "app_shutdown";
      this.#host.metrics.connectionEnded(transport, this.#host.now() - closed.connectedAt, status);
    });
    this.#open.add(connection);
    this.#host.metrics.connectionOpened(transport);
    void this.#host.dispatcher.connected(connection);
    return connection;
  }

  /** The server is shutting down: every connection is told to come back later. */
  close(): void {
    for (const connection of [...this.#open]) connection.close({ error: "The server is shutting down.", allowReconnect: true });
  }
}

/**
 * One client carried by a gateway, as its hub sees it. The gateway tells it what the client does:
 * a call ({@link GatewayConnection.invoke}), an answer to a client result
 * ({@link GatewayConnection.answer}), and that the client left ({@link GatewayConnection.end}).
 *
 * @example
 * ```ts
 * const connection = gateway.connect("socket.io", client, admitted, socket.id);
 * socket.on("add", (a, b, ack) => connection.invoke("add", [a, b], client.track(ack)));
 * socket.on("disconnect", () => connection.end());
 * ```
 */
export class GatewayConnection implements HubConnectionContext {
  readonly connectionId: string;
  readonly connectedOver: string;
  readonly principal: Principal | undefined;
  readonly request: ConnectionRequest;
  readonly protocol: { readonly name: string };
  /** When it connected, on the hub's clock. */
  readonly connectedAt: number;
  /** Messages and bytes in and out, for inspection (bytes are not counted: the gateway's stack frames them). */
  readonly traffic: ConnectionTraffic;
  readonly #client: GatewayClient;
  readonly #host: GatewayHost;
  readonly #onClosed: (connection: GatewayConnection) => void;
  readonly #abort = new AbortController();
  #items: Map<unknown, unknown> | undefined;
  #results: ClientResults | undefined;
  #closed = false;
  /** Calls held while the hub's queue is full (a gateway cannot pause its stack's reading). */
  #held: HubMessage[] | undefined;
  #paused = false;
  #expiry: ReturnType<typeof setTimeout> | undefined;
  readonly transport: { pause(): void; resume(): void };

  constructor(
    connectionId: string,
    transport: string,
    client: GatewayClient,
    principal: Principal | undefined,
    request: ConnectionRequest,
    host: GatewayHost,
    onClosed: (connection: GatewayConnection) => void,
  ) {
    this.connectionId = connectionId;
    this.connectedOver = transport;
    this.protocol = { name: transport };
    this.principal = principal;
    this.request = request;
    this.#client = client;
    this.#host = host;
    this.#onClosed = onClosed;
    this.connectedAt = host.now();
    this.traffic = new ConnectionTraffic(host.traffic);
    this.traffic.over(transport);
    this.transport = {
      pause: () => {
        this.#paused = true;
      },
      resume: () => this.#resume(),
    };
    // As a SignalR connection: closed when its authentication runs out, so the client comes back with a fresh token.
    const expiresAtMs = principal?.expiresAtMs;
    if (expiresAtMs !== undefined) {
      this.#expiry = setTimeout(
        () => this.close({ error: "Connection closed: its authentication expired.", allowReconnect: true }),
        Math.min(Math.max(0, expiresAtMs - Date.now()), 2 ** 31 - 1),
      );
      this.#expiry.unref?.();
    }
  }

  get userId(): string | undefined {
    return this.principal?.userId;
  }

  get items(): Map<unknown, unknown> {
    return (this.#items ??= new Map());
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Whether it has ended. */
  get isClosed(): boolean {
    return this.#closed;
  }

  // The client's side, as the gateway reports it.

  /** The client called a hub method; with an `invocationId` it awaits the Completion. */
  invoke(target: string, args: unknown[], invocationId?: string): void {
    if (this.#closed) return;
    this.traffic.received();
    this.#host.metrics.messageReceived();
    const message: HubMessage =
      invocationId === undefined
        ? { type: MessageType.Invocation, target, arguments: args }
        : { type: MessageType.Invocation, target, arguments: args, invocationId };
    if (this.#paused) {
      const held = (this.#held ??= []);
      held.push(message);
      if (held.length > this.#host.maxHeldCalls) {
        this.#host.logger.log("warn", "A client sent calls faster than the hub runs them; closing its connection.", {
          hub: this.#host.hubName,
          connectionId: this.connectionId,
          transport: this.connectedOver,
        });
        this.close({ error: "Connection closed with an error. The client sent more calls than the server could queue." });
      }
      return;
    }
    this.#host.dispatcher.message(this, message);
  }

  /** The client answered a client result: `{ result }`, or `{ error }` when it failed. */
  answer(invocationId: string, answer: { readonly result?: unknown } | { readonly error: string }): void {
    if (this.#closed) return;
    this.traffic.received();
    this.#host.metrics.messageReceived();
    const completion: CompletionMessage =
      "error" in answer
        ? { type: MessageType.Completion, invocationId, error: answer.error }
        : { type: MessageType.Completion, invocationId, result: answer.result };
    if (!this.#results?.complete(invocationId, completion)) {
      this.#host.logger.log("debug", "An answer for no pending client result was ignored.", { hub: this.#host.hubName, connectionId: this.connectionId });
    }
  }

  /** The client left, or its stack ended it (`error` says why; none is a clean end). */
  end(error?: Error): void {
    this.#finish(error);
  }

  // The hub's side.

  write(message: SerializedMessage): void {
    if (this.#closed) return;
    this.traffic.sent();
    this.#host.metrics.messageSent();
    const decoded = () => message.messageFor(this.#host.protocols);
    if (this.#client.deliverShared !== undefined) this.#client.deliverShared(message, decoded);
    else this.#client.deliver(decoded());
  }

  send(message: HubMessage): void {
    if (this.#closed) return;
    this.traffic.sent();
    this.#host.metrics.messageSent();
    this.#client.deliver(message);
  }

  sendCompletion(message: CompletionMessage): void {
    try {
      this.send(message);
    } catch (error) {
      if (!isProtocolError(error)) throw error;
      this.#host.logger.log("error", "The gateway cannot write a Completion; closing the connection.", {
        hub: this.#host.hubName,
        connectionId: this.connectionId,
        transport: this.connectedOver,
        error,
      });
      this.close({ error: ErrorTexts.connectionClosedWithError, cause: error });
    }
  }

  invokeClient(method: string, args: readonly unknown[], options: ClientResultOptions): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ClientResultError(`Connection '${this.connectionId}' is not connected.`));
    return (this.#results ??= new ClientResults()).invoke((message) => this.send(message), method, args, options);
  }

  close(options: { error?: string; allowReconnect?: boolean; cause?: Error } = {}): void {
    if (this.#closed) return;
    // Ended first: whatever the stack reports while it closes (its own disconnect event) finds it ended.
    this.#finish(options.cause ?? (options.error === undefined ? undefined : new Error(options.error)));
    this.#client.end({
      ...(options.error === undefined ? {} : { error: options.error }),
      ...(options.allowReconnect === undefined ? {} : { allowReconnect: options.allowReconnect }),
    });
  }

  abort(reason?: string): void {
    if (this.#closed) return;
    this.#finish(reason === undefined ? undefined : new Error(reason));
    this.#client.end({});
  }

  #resume(): void {
    this.#paused = false;
    const held = this.#held;
    this.#held = undefined;
    for (const message of held ?? []) {
      if (this.#closed) return;
      if (this.#paused) {
        (this.#held ??= []).push(message);
        continue;
      }
      this.#host.dispatcher.message(this, message);
    }
  }

  #finish(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#held = undefined;
    clearTimeout(this.#expiry);
    this.#abort.abort(error ?? new Error("The connection closed."));
    this.#results?.rejectAll(this.connectionId);
    this.#onClosed(this);
    void this.#host.dispatcher.disconnected(this, error, true);
  }
}
