/**
 * One connection of a connection handler (ASP.NET Core's `ConnectionContext`): negotiated and
 * carried like a hub's, by any of the three transports, but with no hub protocol on it. The
 * application reads what the client sends and writes what it likes; the connection lives as long
 * as its handler's promise, as .NET's `OnConnectedAsync` task decides.
 *
 * @module
 */
import type { TransportName } from "@hubwire/protocol";
import type { ConnectionState, EndpointConnection } from "./connection-endpoint.js";
import type { Slot } from "./connection-limits.js";
import type { ConnectionRequest, Principal } from "./connection-request.js";
import type { Logger } from "./logger.js";
import type { Transport } from "./transports/transport.js";

/** What the client sent, as one transport read carried it. */
export interface ConnectionMessage {
  /** The bytes: one WebSocket message, or what was read of a POST body (a large one comes in pieces). */
  readonly data: Buffer;
  /** A binary WebSocket message, or a POST sent as `application/octet-stream`. */
  readonly isBinary: boolean;
  /** The bytes as UTF-8 text. */
  text(): string;
}

/**
 * A connection owned by a connection handler. Iterate it for what the client sends; the iteration
 * ends when the connection does.
 */
export interface ConnectionContext extends AsyncIterable<ConnectionMessage> {
  readonly connectionId: string;
  /** The transport it uses. */
  readonly transport: TransportName;
  /** The HTTP request that opened it (the query without its tokens). */
  readonly request: ConnectionRequest;
  /** What authentication returned for it. */
  readonly principal: Principal | undefined;
  /** Per-connection state for the application. */
  readonly items: Map<unknown, unknown>;
  /** Aborted when the connection ends. */
  readonly signal: AbortSignal;
  /** Whether it can still send. */
  readonly isOpen: boolean;
  /**
   * Sends to the client: a string as text, bytes as binary. Over Server-Sent Events, which carry
   * text only, bytes throw a `TypeError`. False once the connection has ended.
   */
  send(data: string | Uint8Array): boolean;
  /** Ends the connection (a WebSocket closes with 1000; a long poll is answered 204). */
  close(): void;
  /** Settles when the connection has ended: undefined for a clean end, or why it failed. */
  readonly closed: Promise<Error | undefined>;
}

/** Handles one connection; the connection ends when the returned promise settles. */
export type ConnectionHandler = (connection: ConnectionContext) => Promise<void>;

/** What a handler connection tells its endpoint. */
export interface HandlerConnectionEvents {
  opened(connection: HandlerConnection): void;
  ended(connection: HandlerConnection): void;
}

/** Limits and timings of a handler connection. */
export interface HandlerConnectionSettings {
  readonly handler: ConnectionHandler;
  readonly disconnectTimeoutMs: number;
  /** Unread bytes past which the connection stops reading until the handler catches up. */
  readonly maxBufferedBytes: number;
  readonly logger: Logger;
  readonly name: string;
  readonly now: () => number;
}

const encoder = new TextEncoder();

/**
 * The connection, as both its endpoint and its handler see it.
 *
 * @example
 * ```ts
 * const connection = new HandlerConnection(ids, settings, events);
 * connection.attach(transport, request, principal); // the handler starts
 * ```
 */
export class HandlerConnection implements EndpointConnection {
  readonly connectionId: string;
  readonly connectionToken: string;
  statefulReconnectNegotiated = false;
  slot: Slot | undefined;
  connectedOver: TransportName | undefined;
  connectedAt = 0;
  timedOut = false;
  #state: ConnectionState = "negotiated";
  #stateSince: number;
  #transport: Transport | undefined;
  #request: ConnectionRequest | undefined;
  #principal: Principal | undefined;
  #expiresAt: number | undefined;
  #items: Map<unknown, unknown> | undefined;
  readonly #abort = new AbortController();
  readonly #settings: HandlerConnectionSettings;
  readonly #events: HandlerConnectionEvents;
  readonly #unread: ConnectionMessage[] = [];
  #unreadBytes = 0;
  #paused = false;
  #reader: ((result: IteratorResult<ConnectionMessage>) => void) | undefined;
  #closedWith: ((error: Error | undefined) => void) | undefined;
  readonly closed: Promise<Error | undefined>;

  constructor(ids: { connectionId: string; connectionToken: string }, settings: HandlerConnectionSettings, events: HandlerConnectionEvents) {
    this.connectionId = ids.connectionId;
    this.connectionToken = ids.connectionToken;
    this.#settings = settings;
    this.#events = events;
    this.#stateSince = settings.now();
    this.closed = new Promise((resolve) => (this.#closedWith = resolve));
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get stateSince(): number {
    return this.#stateSince;
  }

  get transport(): Transport | undefined {
    return this.#transport;
  }

  get principal(): Principal | undefined {
    return this.#principal;
  }

  get request(): ConnectionRequest {
    return this.#request!;
  }

  get items(): Map<unknown, unknown> {
    return (this.#items ??= new Map());
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get isOpen(): boolean {
    return this.#state === "connected";
  }

  /** No stateful reconnect without a hub protocol to number messages. */
  get canReattach(): boolean {
    return false;
  }

  /** The transport is bound: the connection is open, and its handler starts. */
  attach(transport: Transport, request: ConnectionRequest, principal: Principal | undefined): void {
    if (this.#state !== "negotiated") throw new Error(`Connection ${this.connectionId} already has a transport.`);
    this.#transport = transport;
    this.#request = request;
    this.#principal = principal;
    const expiresAtMs = principal?.expiresAtMs;
    this.#expiresAt = expiresAtMs === undefined ? undefined : this.#settings.now() + (expiresAtMs - Date.now());
    this.#state = "connected";
    this.#stateSince = this.connectedAt = this.#settings.now();
    this.connectedOver = transport.name;
    this.#events.opened(this);
    // The handler runs after this turn, as .NET starts OnConnectedAsync: the transport's first
    // answer (a long poll's 200) goes out first.
    const context = new HandlerContext(this);
    void Promise.resolve()
      .then(() => this.#settings.handler(context))
      .then(
        () => this.close(),
        (error: unknown) => {
          this.#settings.logger.log("error", "A connection handler threw; ending its connection.", {
            path: this.#settings.name,
            connectionId: this.connectionId,
            error,
          });
          if (this.#state === "closed") return;
          // 1011 on a WebSocket: the server failed, as Kestrel closes when the application faults.
          this.#transport?.close(1011, "The server's connection handler failed.");
          this.#end(error as Error);
        },
      );
  }

  reattach(): void {
    throw new Error(`Connection ${this.connectionId} cannot re-attach a transport.`);
  }

  receive(from: Transport, chunk: Uint8Array, isBinary = false): void {
    if (this.#state !== "connected" || from !== this.#transport) return;
    const data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const message: ConnectionMessage = { data, isBinary, text: () => data.toString("utf8") };
    if (this.#reader !== undefined) {
      const reader = this.#reader;
      this.#reader = undefined;
      reader({ value: message, done: false });
      return;
    }
    this.#unread.push(message);
    this.#unreadBytes += data.byteLength;
    // A handler that does not read must not grow this process's memory: stop reading the client.
    if (!this.#paused && this.#unreadBytes > this.#settings.maxBufferedBytes) {
      this.#paused = true;
      from.pause();
    }
  }

  transportClosed(from: Transport, error?: Error): void {
    if (from === this.#transport) this.#end(error);
  }

  clientEnded(from: Transport): void {
    this.transportClosed(from);
  }

  send(data: string | Uint8Array): boolean {
    const transport = this.#transport;
    if (this.#state !== "connected" || transport === undefined) return false;
    const isBinary = typeof data !== "string";
    if (isBinary && !transport.supportsBinary) {
      throw new TypeError(`The ${transport.name} transport carries text only: send a string.`);
    }
    transport.send(typeof data === "string" ? encoder.encode(data) : data, isBinary);
    return true;
  }

  close(): void {
    if (this.#state === "closed") return;
    this.#transport?.close(1000);
    this.#end(undefined);
  }

  abort(reason?: string): void {
    if (this.#state === "closed") return;
    this.#transport?.close(1000);
    this.#end(reason === undefined ? undefined : new Error(reason));
  }

  shutDown(): void {
    this.close();
  }

  tick(now: number): void {
    if (this.#expiresAt !== undefined && now >= this.#expiresAt) {
      this.#settings.logger.log("debug", "A connection's authentication expired.", { path: this.#settings.name, connectionId: this.connectionId });
      this.close();
      return;
    }
    const idleSince = this.#transport?.idleSince;
    if (this.#transport?.hasInherentKeepAlive === true && idleSince !== undefined && now - idleSince >= this.#settings.disconnectTimeoutMs) {
      this.timedOut = true;
      this.abort("The client stopped polling.");
    }
  }

  /** The next thing the client sent, in order; done once the connection has ended and all was read. */
  read(): Promise<IteratorResult<ConnectionMessage>> {
    const message = this.#unread.shift();
    if (message !== undefined) {
      this.#unreadBytes -= message.data.byteLength;
      if (this.#paused && this.#unreadBytes <= this.#settings.maxBufferedBytes / 2) {
        this.#paused = false;
        this.#transport?.resume();
      }
      return Promise.resolve({ value: message, done: false });
    }
    if (this.#state === "closed") return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#reader = resolve));
  }

  #end(error: Error | undefined): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#abort.abort(error ?? new Error("The connection closed."));
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.({ value: undefined, done: true });
    this.#events.ended(this);
    this.#closedWith?.(error);
  }
}

/** What the handler holds: the connection's application side (a class, so its getters are shared). */
class HandlerContext implements ConnectionContext {
  readonly #connection: HandlerConnection;

  constructor(connection: HandlerConnection) {
    this.#connection = connection;
  }

  get connectionId(): string {
    return this.#connection.connectionId;
  }

  get transport(): TransportName {
    return this.#connection.connectedOver!;
  }

  get request(): ConnectionRequest {
    return this.#connection.request;
  }

  get principal(): Principal | undefined {
    return this.#connection.principal;
  }

  get items(): Map<unknown, unknown> {
    return this.#connection.items;
  }

  get signal(): AbortSignal {
    return this.#connection.signal;
  }

  get isOpen(): boolean {
    return this.#connection.isOpen;
  }

  get closed(): Promise<Error | undefined> {
    return this.#connection.closed;
  }

  send(data: string | Uint8Array): boolean {
    return this.#connection.send(data);
  }

  close(): void {
    this.#connection.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<ConnectionMessage> {
    return { next: () => this.#connection.read(), return: () => Promise.resolve({ value: undefined, done: true }) };
  }
}
