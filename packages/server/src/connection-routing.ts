/**
 * Routing between nodes, so that any node serves any request of a connection and no load
 * balancer needs sticky sessions. A backplane (`@hubwire/redis`) implements
 * {@link ConnectionRouting}; the connection endpoint uses it for a token it does not hold:
 *
 * - The first transport request (a WebSocket, an event stream, a first poll) claims a connection
 *   that another node only negotiated: that node releases it (once: exactly one claim wins), and
 *   the connection lives where its transport arrived.
 * - A later request (a poll, a POST, a DELETE) that reaches another node is forwarded to the
 *   holder through the backplane and answered from there, so the client never sees which node
 *   answered. A forward is bounded: in size (the endpoint's frame limit), in time (a deadline),
 *   and answered 404 when no node holds the connection, 503 when the backplane cannot ask.
 * - A WebSocket or an event stream that re-attaches a stateful connection on another node than its
 *   holder is relayed: the node it reached answers once the holder took it, and carries its frames
 *   (a stream's chunks) between the client and the holder through the backplane. The holder sees
 *   the relay as a WebSocket like any other (a {@link RuntimeWebSocket}) or as an HTTP exchange
 *   (`relayed-exchange.ts`), so it stays the connection's only owner.
 *
 * @module
 */
import type { ConnectionKeeping } from "./connection-keeping.js";
import type { BodyReader, HttpExchange, HttpHeaders } from "./runtime/http-exchange.js";
import type { RuntimeWebSocket, WebSocketHandshake } from "./runtime/runtime-websocket.js";

/** A request as it is forwarded to the node that holds its connection: whole, its body read. */
export interface ForwardedRequest {
  readonly method: string;
  /** The path and query, as the client sent them. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly remoteAddress: string | undefined;
  readonly body: Uint8Array;
}

/** A request as it is relayed to the node that holds its connection: a WebSocket or an event stream, with no body. */
export interface RelayedRequest extends Omit<ForwardedRequest, "body"> {
  readonly transport: "websocket" | "events";
}

/**
 * The holder's answer to a relayed request: its end of the relay (what the client sends goes to
 * `send`, what the holder sends arrives at the listener) with the status and headers that began it
 * (101 for a WebSocket), or the refusal the client gets (its status, message and headers).
 */
export type RelayAnswer =
  | { readonly kind: "accepted"; readonly holder: RelaySocket; readonly status: number; readonly headers: Readonly<Record<string, string>> }
  | { readonly kind: "refused"; readonly status: number; readonly message: string; readonly headers: Readonly<Record<string, string>> };

/** How the holder answers a relayed event stream: begins it (the relay's end carries its chunks), or answers it whole. */
export interface RelayedStream {
  begin(status: number, headers: Readonly<Record<string, string>>): RelaySocket;
  answer(status: number, headers: Readonly<Record<string, string>>, body: string): void;
}

/**
 * One node's end of a relay, as a WebSocket: on the holder it stands for the client (a relayed
 * WebSocket's, or an event stream's writes), on the node the client reached for the holder.
 */
export interface RelaySocket extends RuntimeWebSocket {
  /** The holder stopped (true) or restarted (false) reading the connection: the client's socket pauses with it. */
  onFlow(listener: (paused: boolean) => void): void;
}

/** The holder's answer, sent back to the node the client waits on. */
export interface ForwardedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/** What a connection this node holds is, for another node's question. */
export type HeldConnection = "negotiated" | "attached";

/** What a negotiated connection carries from the node that negotiated it to the one that claims it. */
export interface NegotiatedConnection {
  readonly connectionId: string;
  readonly statefulReconnect: boolean;
}

/** Where a token's connection is, as the other nodes answered. */
export type Located =
  /** It was only negotiated elsewhere; that node released it to this one. */
  | ({ readonly kind: "claimed" } & NegotiatedConnection)
  /** Another node holds it: forward the request there. */
  | { readonly kind: "elsewhere"; readonly nodeId: string }
  /** No node holds it. */
  | { readonly kind: "unknown" };

/** How this node answers the others: the endpoint gives it to its routing once. */
export interface RoutedEndpoint {
  /** What this node holds under `token`, if anything. */
  find(token: string): HeldConnection | undefined;
  /** Gives up a connection that has no transport yet, for another node to claim; undefined if it has one by now (or is gone). */
  release(token: string): NegotiatedConnection | undefined;
  /** Runs a forwarded request as if it had arrived here; `signal` aborts when the client goes away. */
  handle(request: ForwardedRequest, signal: AbortSignal): Promise<ForwardedResponse>;
  /** Runs a relayed WebSocket's handshake as if it had arrived here; `handshake.accept` gives the relay's end. */
  openRelayed(request: RelayedRequest, handshake: WebSocketHandshake): Promise<void>;
  /** Runs a relayed event stream's request as if it had arrived here; `stream` carries its answer. */
  streamRelayed(request: RelayedRequest, stream: RelayedStream): void;
}

/** The routing a backplane offers a hub's connection endpoint. */
export interface ConnectionRouting {
  /**
   * Asks the other nodes for `token`. With `claim`, a node that only negotiated it releases it
   * to this one. Rejects when the backplane cannot ask (the endpoint answers 503).
   */
  locate(token: string, claim: boolean): Promise<Located>;
  /**
   * Sends a request to the node that holds its connection. Resolves with its answer; rejects with
   * a {@link RoutingError} (`status` 404 when that node is gone, 503 when it cannot be reached).
   */
  forward(nodeId: string, request: ForwardedRequest, signal: AbortSignal): Promise<ForwardedResponse>;
  /**
   * Relays a WebSocket or an event stream to the node that holds its connection. Resolves with the holder's answer;
   * rejects with a {@link RoutingError} (404 when that node is gone, 503 when it cannot be reached).
   */
  relay(nodeId: string, request: RelayedRequest): Promise<RelayAnswer>;
  /** How this node answers the others' questions and forwards. */
  serve(endpoint: RoutedEndpoint): void;
  /**
   * Keeps stateful connections where other nodes can take them over when their node dies
   * (connection-keeping.ts); none: a connection dies with its node.
   */
  readonly keeping?: ConnectionKeeping | undefined;
}

/**
 * A request that could not be routed: `status` is the answer the client gets.
 *
 * @example
 * ```ts
 * throw new RoutingError(503, "The node that holds this connection cannot be reached; try again.");
 * ```
 */
export class RoutingError extends Error {
  override readonly name = "RoutingError";
  readonly status: 404 | 503;

  constructor(status: 404 | 503, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

/** The headers a forwarded request keeps: what the transports and authentication read. */
export function forwardedHeaders(headers: HttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(":")) continue;
    kept[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return kept;
}

/**
 * A forwarded request run on the node that holds its connection: its body is already here, and
 * its answer is captured for the node the client waits on. Event streams are relayed instead
 * (`relayed-exchange.ts`).
 *
 * @example
 * ```ts
 * const exchange = new ForwardedExchange(request, signal);
 * endpoint.handleHttp(exchange, search);
 * const answer = await exchange.answer; // { status, headers, body }
 * ```
 */
export class ForwardedExchange implements HttpExchange {
  readonly method: string;
  readonly url: string;
  readonly headers: HttpHeaders;
  readonly httpVersion = "1.1";
  readonly remoteAddress: string | undefined;
  readonly native = undefined;
  /** Settles with the answer, once given. */
  readonly answer: Promise<ForwardedResponse>;
  #settle!: (response: ForwardedResponse) => void;
  readonly #body: Uint8Array;
  #reader: BodyReader | undefined;
  #paused = false;
  #delivered = false;
  #answered = false;
  readonly #headers: Record<string, string> = {};
  readonly #closeListeners: Array<() => void> = [];
  #closed = false;

  constructor(request: ForwardedRequest, signal: AbortSignal) {
    this.method = request.method;
    this.url = request.url;
    this.headers = request.headers;
    this.remoteAddress = request.remoteAddress;
    this.#body = request.body;
    this.answer = new Promise((resolve) => (this.#settle = resolve));
    if (signal.aborted) queueMicrotask(() => this.#close());
    else signal.addEventListener("abort", () => this.#close(), { once: true });
  }

  get answered(): boolean {
    return this.#answered;
  }

  get bufferedBytes(): number {
    return 0;
  }

  readBody(reader: BodyReader): void {
    this.#reader = reader;
    queueMicrotask(() => this.#deliver());
  }

  pauseBody(): void {
    this.#paused = true;
  }

  resumeBody(): void {
    this.#paused = false;
    queueMicrotask(() => this.#deliver());
  }

  discardBody(): void {
    this.#delivered = true;
  }

  closeAfterAnswer(): void {
    // The client's connection is the forwarding node's; it closes nothing here.
  }

  setHeader(name: string, value: string): void {
    this.#headers[name] = value;
  }

  respond(status: number, headers: Readonly<Record<string, string>>, body?: string | Uint8Array): void {
    if (this.#answered) return;
    this.#answered = true;
    const bytes = body === undefined ? new Uint8Array(0) : typeof body === "string" ? Buffer.from(body, "utf8") : body;
    this.#settle({ status, headers: { ...this.#headers, ...headers }, body: bytes });
    this.#close();
  }

  beginStream(status: number, _headers: Readonly<Record<string, string>>): void {
    // Event streams are claimed where they arrive, or relayed; one here is a routing bug.
    this.respond(status === 200 ? 500 : status, {}, "An event stream cannot be forwarded.");
  }

  write(_chunk: string | Uint8Array): void {}

  end(): void {}

  onClose(listener: () => void): void {
    if (this.#closed) queueMicrotask(listener);
    else this.#closeListeners.push(listener);
  }

  #deliver(): void {
    const reader = this.#reader;
    if (reader === undefined || this.#paused || this.#delivered) return;
    this.#delivered = true;
    if (this.#body.byteLength > 0) reader.data(this.#body);
    reader.end();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const listener of this.#closeListeners.splice(0)) listener();
  }
}
