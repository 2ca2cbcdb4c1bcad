/**
 * A typed connection to a hub: one contract type gives `invoke`, `send`, `stream` and `on` their
 * method names, argument types and result types. Speaks SignalR's protocol, so it connects to
 * Hubwire servers and to ASP.NET Core SignalR servers.
 *
 * @module
 * @example
 * ```ts
 * import { HubConnection } from "@hubwire/client";
 * import type { Chat } from "./contract.js";
 *
 * const connection = new HubConnection<Chat>("https://example.com/chat", { reconnect: true });
 * connection.on("receive", (user, text) => console.log(`${user}: ${text}`));
 * await connection.start();
 * await connection.invoke("send", "lobby", "hello");
 * for await (const line of connection.stream("history", "lobby")) console.log(line);
 * ```
 */
import {
  HandshakeReader,
  MessageType,
  ProtocolDefaults,
  TransferFormat,
  parseHandshakeResponse,
  writeHandshakeRequest,
  type ClientMethods,
  type CompletionMessage,
  type HubContract,
  type HubMessage,
  type InvocationMessage,
  type MethodArgs,
  type MethodName,
  type MethodResult,
  type ServerMethods,
  type StreamItemOf,
} from "@hubwire/protocol";
import { ConnectionClosedError, HubError, TimeoutError, TransportError } from "./errors.js";
import type { HttpOptions } from "./http.js";
import { JsonClientProtocol, type ClientMessageParser, type ClientProtocol } from "./json-protocol.js";
import { silentLogger, type Logger } from "./logger.js";
import type { MessageBuffer, StatefulReconnect } from "./message-buffer.js";
import { delays, type RetryPolicy } from "./reconnect-policy.js";
import { LongPollingTransport } from "./transports/long-polling.js";
import { negotiate, withQuery } from "./transports/negotiate.js";
import { ServerSentEventsTransport } from "./transports/sse.js";
import type { Transport, WebSocketConstructor } from "./transports/transport.js";
import { WebSocketTransport } from "./transports/websocket.js";

/** The transports, in SignalR's order of preference. */
export type TransportName = "WebSockets" | "ServerSentEvents" | "LongPolling";

/** The states of a connection, as SignalR names them. */
export type HubConnectionState = "Disconnected" | "Connecting" | "Connected" | "Disconnecting" | "Reconnecting";

/** Options of {@link HubConnection}. Every duration is in milliseconds. */
export interface HubConnectionOptions {
  /** The hub protocol. Default JSON; pass `new MessagePackHubProtocol()` from `@hubwire/client/msgpack` for MessagePack. */
  readonly protocol?: ClientProtocol;
  /** The transports this client may use; the server's list is walked in its order. Default all three. */
  readonly transports?: readonly TransportName[];
  /** Connect a WebSocket directly, without negotiate (WebSockets only). */
  readonly skipNegotiation?: boolean;
  /** Called before every HTTP request and WebSocket connect; its token goes in `Authorization` (or `access_token` for browser WebSockets). */
  readonly accessTokenFactory?: () => string | undefined | Promise<string | undefined>;
  /** Headers for every request (and the WebSocket upgrade, in Node). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Send cookies cross-origin. Default true, as SignalR. */
  readonly withCredentials?: boolean;
  /** A WebSocket class where there is no global one (Node 20: `import { WebSocket } from "ws"`). */
  readonly WebSocket?: WebSocketConstructor;
  /** A fetch where there is no global one. */
  readonly fetch?: typeof fetch;
  /** Reconnect automatically: `true` (0, 2, 10, 30 s), a list of delays, or a policy. Default off. */
  readonly reconnect?: boolean | readonly number[] | RetryPolicy;
  /**
   * Survive a dropped WebSocket with nothing lost (SignalR's stateful reconnect; the server must
   * allow it): `statefulReconnect()` from `@hubwire/client/stateful-reconnect`.
   */
  readonly statefulReconnect?: StatefulReconnect;
  /** Close when nothing has come from the server for this long. Default 30 s. */
  readonly serverTimeoutMs?: number;
  /** Ping when nothing has been sent for this long. Default 15 s. */
  readonly keepAliveIntervalMs?: number;
  /** Give up on the handshake after this long. Default 15 s. */
  readonly handshakeTimeoutMs?: number;
  /** Timeout of negotiate and sends over HTTP. Default 100 s. */
  readonly httpTimeoutMs?: number;
  readonly logger?: Logger;
}

/** Per-call options of `invokeWith` and `streamWith`. */
export interface CallOptions {
  /** Reject (and for a stream, cancel it) when this aborts. */
  readonly signal?: AbortSignal;
  /** Reject when no result came within this long. */
  readonly timeoutMs?: number;
}

type Server<T extends HubContract> = ServerMethods<T>;
type Client<T extends HubContract> = ClientMethods<T>;

/** Server methods that return a stream. */
export type StreamMethodName<TSide> = {
  [K in MethodName<TSide>]: TSide[K] extends (...args: never[]) => AsyncIterable<unknown> ? K : never;
}[MethodName<TSide>];

/** Server methods that return a single result (or nothing). */
export type InvokeMethodName<TSide> = Exclude<MethodName<TSide>, StreamMethodName<TSide>>;

/** A handler for a client method; what it returns is the client result the server may await. */
export type ClientHandler<TClient, K extends MethodName<TClient>> = (
  ...args: MethodArgs<TClient, K>
) => MethodResult<TClient, K> | Promise<MethodResult<TClient, K>>;

/** Items from a server stream. Breaking out of `for await`, or `cancel()`, cancels it on the server. */
export interface HubStream<T> extends AsyncIterable<T> {
  cancel(): void;
}

interface Pending {
  /** Ends the call: with `error`, or with `value` as its result. */
  settle(error?: Error, value?: unknown): void;
  item?: (value: unknown) => void;
}

const allTransports: readonly TransportName[] = ["WebSockets", "ServerSentEvents", "LongPolling"];

/** Adds a listener; returns what removes it. */
function listen<T>(listeners: Set<T>, listener: T): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function isUpload(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}

/**
 * A connection to one hub, typed by its contract.
 *
 * @example
 * ```ts
 * const connection = new HubConnection<Chat>("/chat", { transports: ["LongPolling"] });
 * ```
 */
export class HubConnection<TContract extends HubContract = HubContract> {
  readonly url: string;
  #state: HubConnectionState = "Disconnected";
  #connectionId: string | null = null;
  readonly #options: HubConnectionOptions;
  readonly #protocol: ClientProtocol;
  readonly #http: HttpOptions;
  readonly #logger: Logger;
  readonly #retry: RetryPolicy | undefined;
  readonly #handlers = new Map<string, Array<(...args: never[]) => unknown>>();
  readonly #pending = new Map<string, Pending>();
  readonly #listeners = { close: new Set<(error?: Error) => void>(), reconnecting: new Set<(error?: Error) => void>(), reconnected: new Set<(id: string | null) => void>() };
  #transport: Transport | undefined;
  #transportUrl = "";
  #parser: ClientMessageParser | undefined;
  #handshake: { reader: HandshakeReader; done: (error?: Error) => void } | undefined;
  #buffer: MessageBuffer | undefined;
  #nextId = 0;
  #lastReceivedAt = 0;
  #lastSentAt = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #stopRequested = false;
  /** Set by a server Close message: what to report, and whether reconnecting is allowed. */
  #serverClose: { error: Error | undefined; allowReconnect: boolean } | undefined;
  #wakeReconnect: (() => void) | undefined;

  constructor(url: string, options: HubConnectionOptions = {}) {
    this.url = url;
    if (options.statefulReconnect !== undefined && typeof options.statefulReconnect !== "function") {
      throw new TypeError("The statefulReconnect option takes statefulReconnect() from '@hubwire/client/stateful-reconnect'.");
    }
    this.#options = options;
    this.#protocol = options.protocol ?? new JsonClientProtocol();
    this.#logger = options.logger ?? silentLogger;
    const fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis);
    this.#http = {
      fetch: fetchImpl,
      headers: options.headers ?? {},
      accessToken: options.accessTokenFactory,
      timeoutMs: options.httpTimeoutMs ?? ProtocolDefaults.httpRequestTimeoutMs,
      withCredentials: options.withCredentials ?? true,
    };
    const reconnect = options.reconnect;
    this.#retry = reconnect === undefined || reconnect === false ? undefined : typeof reconnect === "function" ? reconnect : delays(reconnect === true ? undefined : reconnect);
  }

  get state(): HubConnectionState {
    return this.#state;
  }

  /** The server's public id for this connection; null before connecting and with skipNegotiation. */
  get connectionId(): string | null {
    return this.#connectionId;
  }

  /** The transport in use, by name. */
  get transport(): string | undefined {
    return this.#transport?.name;
  }

  /** Connects: negotiate, the first transport that works, the handshake. */
  async start(): Promise<void> {
    if (this.#state !== "Disconnected") throw new Error(`Cannot start a connection that is ${this.#state}.`);
    this.#state = "Connecting";
    this.#stopRequested = false;
    try {
      await this.#open();
      this.#state = "Connected";
    } catch (error) {
      this.#state = "Disconnected";
      throw error;
    }
  }

  /** Disconnects (and stops reconnecting). Pending calls reject with ConnectionClosedError. */
  async stop(): Promise<void> {
    this.#stopRequested = true;
    this.#wakeReconnect?.();
    if (this.#state === "Disconnected" || this.#state === "Disconnecting") return;
    if (this.#state === "Reconnecting") return;
    this.#state = "Disconnecting";
    const transport = this.#transport;
    if (transport === undefined) return;
    await transport.send(this.#protocol.write({ type: MessageType.Close })).catch(() => undefined);
    await transport.stop();
  }

  /**
   * Calls a server method and resolves with its result; rejects with HubError for the server's
   * error. Arguments that are async iterables are uploaded as streams.
   */
  invoke<K extends InvokeMethodName<Server<TContract>>>(method: K, ...args: MethodArgs<Server<TContract>, K>): Promise<MethodResult<Server<TContract>, K>> {
    return this.invokeWith({}, method, ...args);
  }

  /** As {@link HubConnection.invoke}, with a timeout or an AbortSignal. */
  invokeWith<K extends InvokeMethodName<Server<TContract>>>(
    options: CallOptions,
    method: K,
    ...args: MethodArgs<Server<TContract>, K>
  ): Promise<MethodResult<Server<TContract>, K>> {
    const { signal, timeoutMs } = options;
    return new Promise((resolve, reject) => {
      let id: string | undefined;
      const settle = (error?: Error, value?: unknown) => {
        if (id !== undefined) this.#pending.delete(id);
        clearTimeout(timer);
        signal?.removeEventListener("abort", abort);
        if (error) reject(error);
        else resolve(value as MethodResult<Server<TContract>, K>);
      };
      const abort = () => settle(new Error(`The call of '${method}' was aborted.`));
      const timer =
        timeoutMs === undefined ? undefined : setTimeout(() => settle(new TimeoutError(`No result for '${method}' within ${timeoutMs} ms.`)), timeoutMs);
      if (signal?.aborted) return abort();
      signal?.addEventListener("abort", abort, { once: true });
      this.#call(MessageType.Invocation, method, args, (invocationId) => this.#pending.set((id = invocationId), { settle })).catch(settle);
    });
  }

  /** Calls a server method without waiting for (or getting) any answer. Resolves once sent. */
  send<K extends MethodName<Server<TContract>>>(method: K, ...args: MethodArgs<Server<TContract>, K>): Promise<void> {
    return this.#call(MessageType.Invocation, method, args);
  }

  /** Calls a streaming server method; iterate the result with `for await`. */
  stream<K extends StreamMethodName<Server<TContract>>>(
    method: K,
    ...args: MethodArgs<Server<TContract>, K>
  ): HubStream<StreamItemOf<ReturnType<Extract<Server<TContract>[K], (...args: never[]) => unknown>>>> {
    return this.streamWith({}, method, ...args);
  }

  /** As {@link HubConnection.stream}; the signal cancels the stream. */
  streamWith<K extends StreamMethodName<Server<TContract>>>(
    options: CallOptions,
    method: K,
    ...args: MethodArgs<Server<TContract>, K>
  ): HubStream<StreamItemOf<ReturnType<Extract<Server<TContract>[K], (...args: never[]) => unknown>>>> {
    type Item = StreamItemOf<ReturnType<Extract<Server<TContract>[K], (...args: never[]) => unknown>>>;
    let id = "";
    const items: Item[] = [];
    let ended: { error?: Error } | undefined;
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const register = (invocationId: string) => {
      id = invocationId;
      this.#pending.set(id, {
        item: (value) => (items.push(value as Item), notify()),
        settle: (error) => ((ended = error ? { error } : {}), notify()),
      });
    };
    const cancel = () => {
      if (ended !== undefined) return;
      ended = {};
      this.#pending.delete(id);
      notify();
      if (this.#state === "Connected") void this.#send({ type: MessageType.CancelInvocation, invocationId: id }).catch(() => undefined);
    };
    options.signal?.addEventListener("abort", cancel, { once: true });
    this.#call(MessageType.StreamInvocation, method, args, register).catch((error: Error) => {
      if (id === "") ended = { error };
      else this.#pending.get(id)?.settle(error);
      notify();
    });
    const iterator: AsyncIterator<Item> = {
      next: async () => {
        while (items.length === 0 && ended === undefined) await new Promise<void>((resolve) => (wake = resolve));
        if (items.length > 0) return { value: items.shift()!, done: false };
        if (ended?.error !== undefined) throw ended.error;
        return { value: undefined, done: true };
      },
      return: async () => (cancel(), { value: undefined, done: true }),
    };
    return { cancel, [Symbol.asyncIterator]: () => iterator };
  }

  /**
   * Handles a client method the server calls. Returns a function that removes the handler.
   * A handler's return value (or Promise) is the client result when the server awaits one.
   */
  on<K extends MethodName<Client<TContract>>>(method: K, handler: ClientHandler<Client<TContract>, K>): () => void {
    const name = method.toLowerCase();
    const handlers = this.#handlers.get(name) ?? [];
    handlers.push(handler as (...args: never[]) => unknown);
    this.#handlers.set(name, handlers);
    return () => this.off(method, handler);
  }

  /** Removes one handler, or every handler of a method. */
  off<K extends MethodName<Client<TContract>>>(method: K, handler?: ClientHandler<Client<TContract>, K>): void {
    const name = method.toLowerCase();
    const remaining = handler === undefined ? [] : (this.#handlers.get(name) ?? []).filter((entry) => entry !== handler);
    if (remaining.length > 0) this.#handlers.set(name, remaining);
    else this.#handlers.delete(name);
  }

  /** The connection closed for good (`error` unless stop() closed it). */
  onClose(listener: (error?: Error) => void): () => void {
    return listen(this.#listeners.close, listener);
  }

  /** The connection was lost and automatic reconnect started. */
  onReconnecting(listener: (error?: Error) => void): () => void {
    return listen(this.#listeners.reconnecting, listener);
  }

  /** Automatic reconnect succeeded, with a new connection id (groups must be joined again). */
  onReconnected(listener: (connectionId: string | null) => void): () => void {
    return listen(this.#listeners.reconnected, listener);
  }

  async #open(): Promise<void> {
    this.#serverClose = undefined;
    const { transport, stateful } = await this.#connectTransport();
    this.#transport = transport;
    transport.onreceive = (data) => this.#receive(data);
    transport.onclose = (error) => void this.#transportClosed(transport, error);
    const handshakeDone = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new TimeoutError("The server did not answer the handshake in time.")),
        this.#options.handshakeTimeoutMs ?? ProtocolDefaults.handshakeTimeoutMs,
      );
      this.#handshake = {
        reader: new HandshakeReader(),
        done: (error) => (clearTimeout(timer), error === undefined ? resolve() : reject(error)),
      };
    });
    this.#parser = this.#protocol.createParser();
    this.#buffer = stateful
      ? this.#options.statefulReconnect!(
          (message) => this.#protocol.write(message),
          (data) => this.#transmit(data),
        )
      : undefined;
    try {
      await this.#transmit(writeHandshakeRequest({ protocol: this.#protocol.name, version: stateful ? this.#protocol.version : 1 }));
      await handshakeDone;
    } catch (error) {
      this.#handshake = undefined;
      await transport.stop().catch(() => undefined);
      throw error;
    }
    this.#lastReceivedAt = this.#lastSentAt = Date.now();
    // As the official client does: a first Ping right away, except where polling keeps the connection alive.
    if (transport.name !== "LongPolling") await this.#transmit(this.#protocol.write({ type: MessageType.Ping }));
    const keepAlive = this.#options.keepAliveIntervalMs ?? ProtocolDefaults.keepAliveIntervalMs;
    const serverTimeout = this.#options.serverTimeoutMs ?? ProtocolDefaults.serverTimeoutMs;
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#tick(keepAlive, serverTimeout), Math.max(10, Math.min(keepAlive, serverTimeout) / 4));
  }

  /** Negotiates and walks the transports the server offers, in order, until one connects. */
  async #connectTransport(): Promise<{ transport: Transport; stateful: boolean }> {
    const allowed = this.#options.transports ?? allTransports;
    const binary = this.#protocol.transferFormat === TransferFormat.Binary;
    if (this.#options.skipNegotiation === true) {
      if (allowed.length !== 1 || allowed[0] !== "WebSockets") throw new Error("Negotiation can only be skipped when using the WebSocket transport directly.");
      const transport = this.#createTransport("WebSockets");
      await transport.connect((this.#transportUrl = this.url), binary);
      this.#connectionId = null;
      return { transport, stateful: false };
    }
    const failures: string[] = [];
    const wantStateful = this.#options.statefulReconnect !== undefined;
    let negotiated = await negotiate(this.#http, this.url, wantStateful);
    const offered = negotiated.transports.filter(
      (entry) => allowed.includes(entry.transport as TransportName) && entry.transferFormats.includes(binary ? "Binary" : "Text"),
    );
    for (const [index, entry] of offered.entries()) {
      // Each attempt after a failure gets a fresh connection: the failed one may be half-open.
      if (index > 0) negotiated = await negotiate(this.#http, this.url, wantStateful);
      const transport = this.#createTransport(entry.transport as TransportName, negotiated.accessToken);
      const url = withQuery(negotiated.url, `id=${encodeURIComponent(negotiated.connectionToken)}`);
      try {
        await transport.connect(url, binary);
        this.#transportUrl = url;
        this.#connectionId = negotiated.connectionId;
        return { transport, stateful: negotiated.useStatefulReconnect && entry.transport === "WebSockets" };
      } catch (error) {
        this.#logger.warn(`The ${entry.transport} transport failed; trying the next.`, error);
        failures.push((error as Error).message);
      }
    }
    throw new TransportError(
      "all",
      `Unable to connect to the server with any of the available transports.${failures.length > 0 ? ` ${failures.join(" ")}` : " None of them is allowed."}`,
    );
  }

  #createTransport(name: TransportName, redirectToken?: string): Transport {
    const http = redirectToken === undefined ? this.#http : { ...this.#http, accessToken: () => redirectToken };
    if (name === "ServerSentEvents") return new ServerSentEventsTransport(http);
    if (name === "LongPolling") return new LongPollingTransport(http);
    const WebSocketClass = this.#options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined);
    if (WebSocketClass === undefined) throw new TransportError("WebSockets", "No WebSocket class: pass one as the WebSocket option (for example from 'ws').");
    return new WebSocketTransport(WebSocketClass, http.accessToken, this.#http.headers);
  }

  async #transmit(data: string | Uint8Array): Promise<void> {
    const transport = this.#transport;
    if (transport === undefined) throw new ConnectionClosedError("The connection is not connected.");
    this.#lastSentAt = Date.now();
    await transport.send(data);
  }

  #send(message: HubMessage): Promise<void> {
    return this.#buffer !== undefined ? this.#buffer.send(message) : this.#transmit(this.#protocol.write(message));
  }

  /**
   * Sends an invocation; async iterables among the arguments become upload streams. Stream ids
   * are numbered before the invocation's own id (`register` receives it), as the official client
   * numbers them, so both send the same frames.
   */
  async #call(
    type: typeof MessageType.Invocation | typeof MessageType.StreamInvocation,
    target: string,
    args: readonly unknown[],
    register?: (invocationId: string) => void,
  ): Promise<void> {
    if (this.#state !== "Connected") throw new ConnectionClosedError(`Cannot send '${target}': the connection is ${this.#state}.`);
    const plain: unknown[] = [];
    const uploads: Array<[string, AsyncIterable<unknown>]> = [];
    for (const arg of args) {
      if (isUpload(arg)) uploads.push([String(this.#nextId++), arg]);
      else plain.push(arg);
    }
    const id = register === undefined ? undefined : String(this.#nextId++);
    if (id !== undefined) register!(id);
    // Absent fields (no id, no streams) are left off the wire, as the official client leaves them.
    const streamIds = uploads.length > 0 ? uploads.map(([streamId]) => streamId) : undefined;
    await this.#send({ type, invocationId: id, target, arguments: plain, streamIds } as InvocationMessage);
    for (const [streamId, upload] of uploads) void this.#upload(streamId, upload);
  }

  async #upload(streamId: string, items: AsyncIterable<unknown>): Promise<void> {
    let error: string | undefined;
    try {
      for await (const item of items) {
        if (this.#state !== "Connected") return;
        await this.#send({ type: MessageType.StreamItem, invocationId: streamId, item });
      }
    } catch (caught) {
      error = `${caught as Error}`;
    }
    if (this.#state === "Connected") {
      await this.#send({ type: MessageType.Completion, invocationId: streamId, error }).catch(() => undefined);
    }
  }

  #receive(data: string | Uint8Array): void {
    this.#lastReceivedAt = Date.now();
    try {
      const handshake = this.#handshake;
      if (handshake !== undefined) {
        const record = handshake.reader.push(data);
        if (record === undefined) return;
        this.#handshake = undefined;
        const response = parseHandshakeResponse(record.handshake);
        if (response.error !== undefined) return handshake.done(new Error(`Server returned handshake error: ${response.error}`));
        handshake.done();
        if (record.remaining.length === 0) return;
        data = record.remaining;
      }
      for (const message of this.#parser!.push(data)) {
        if (this.#buffer !== undefined && !this.#buffer.accept(message)) continue;
        this.#dispatch(message);
      }
    } catch (error) {
      this.#logger.warn("Closing after bad data from the server.", error);
      this.#handshake?.done(error as Error);
      this.#serverClose = { error: error as Error, allowReconnect: false };
      void this.#transport?.stop();
    }
  }

  #dispatch(message: HubMessage): void {
    switch (message.type) {
      case MessageType.Invocation:
        return void this.#invokeHandlers(message);
      case MessageType.StreamItem:
        return this.#pending.get(message.invocationId)?.item?.(message.item);
      case MessageType.Completion:
        return this.#complete(message);
      case MessageType.Close:
        this.#serverClose = {
          // A JSON server may write null for an absent field.
          error: message.error == null ? undefined : new Error(`Server returned an error on close: ${message.error}`),
          allowReconnect: message.allowReconnect === true,
        };
        return void this.#transport?.stop();
      default:
        return;
    }
  }

  #complete(message: CompletionMessage): void {
    const pending = this.#pending.get(message.invocationId);
    if (pending === undefined) return;
    pending.settle(message.error == null ? undefined : new HubError(message.error), message.result);
  }

  async #invokeHandlers(message: InvocationMessage): Promise<void> {
    const handlers = [...(this.#handlers.get(message.target.toLowerCase()) ?? [])];
    if (handlers.length === 0) this.#logger.warn(`No handler for the client method '${message.target}'.`);
    const results: unknown[] = [];
    let error: string | undefined;
    for (const handler of handlers) {
      try {
        const result = await handler(...(message.arguments as never[]));
        if (result !== undefined) results.push(result);
      } catch (caught) {
        error = `${caught as Error}`;
      }
    }
    if (message.invocationId == null) return;
    if (error === undefined && results.length !== 1) {
      error = results.length === 0 ? "Client didn't provide a result." : "Client provided multiple results.";
    }
    await this.#send({ type: MessageType.Completion, invocationId: message.invocationId, result: error === undefined ? results[0] : undefined, error }).catch(
      () => undefined,
    );
  }

  #tick(keepAliveMs: number, serverTimeoutMs: number): void {
    if (this.#state !== "Connected" || this.#transport === undefined) return;
    // Long polling keeps itself alive: no pings, and the server's silence is normal.
    if (this.#transport.name === "LongPolling") return;
    const now = Date.now();
    if (now - this.#lastReceivedAt >= serverTimeoutMs) {
      this.#serverClose = { error: new TimeoutError("Server timeout elapsed without receiving a message from the server."), allowReconnect: true };
      void this.#transport.stop();
    } else if (now - this.#lastSentAt >= keepAliveMs) {
      void this.#transmit(this.#protocol.write({ type: MessageType.Ping })).catch(() => undefined);
    }
  }

  async #transportClosed(transport: Transport, error: Error | undefined): Promise<void> {
    if (transport !== this.#transport) return;
    // Stateful reconnect: one attempt to re-attach the same connection, invisible to the app.
    if (this.#buffer !== undefined && this.#state === "Connected" && !this.#stopRequested && this.#serverClose === undefined) {
      this.#buffer.disconnected();
      try {
        // A fresh parser before connecting: the server's Sequence may arrive with the upgrade.
        this.#parser = this.#protocol.createParser();
        await transport.connect(this.#transportUrl, this.#protocol.transferFormat === TransferFormat.Binary);
        this.#lastReceivedAt = Date.now();
        await this.#buffer.resend();
        return;
      } catch (reconnectError) {
        this.#logger.warn("Stateful reconnect failed.", reconnectError);
      }
    }
    clearInterval(this.#timer);
    this.#buffer?.dispose();
    this.#transport = undefined;
    const serverClose = this.#serverClose;
    const reason = serverClose?.error ?? error;
    for (const pending of [...this.#pending.values()]) pending.settle(new ConnectionClosedError(`The connection closed${reason ? `: ${reason.message}` : "."}`));
    this.#pending.clear();
    const wasConnected = this.#state === "Connected";
    const mayReconnect = serverClose === undefined ? error !== undefined : serverClose.allowReconnect;
    if (!this.#stopRequested && wasConnected && mayReconnect && this.#retry !== undefined) return this.#reconnect(reason ?? new Error("The connection was lost."));
    this.#finish(this.#stopRequested ? undefined : reason);
  }

  async #reconnect(cause: Error): Promise<void> {
    this.#state = "Reconnecting";
    for (const listener of this.#listeners.reconnecting) listener(cause);
    const started = Date.now();
    let reason = cause;
    for (let attempt = 0; ; attempt++) {
      const delay = this.#retry!({ previousRetryCount: attempt, elapsedMs: Date.now() - started, retryReason: reason });
      if (delay === null) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#wakeReconnect = () => (clearTimeout(timer), resolve());
      });
      this.#wakeReconnect = undefined;
      if (this.#stopRequested) break;
      try {
        await this.#open();
        this.#state = "Connected";
        for (const listener of this.#listeners.reconnected) listener(this.#connectionId);
        return;
      } catch (error) {
        reason = error as Error;
        this.#logger.warn("A reconnect attempt failed.", error);
      }
    }
    this.#finish(this.#stopRequested ? undefined : reason);
  }

  #finish(error: Error | undefined): void {
    this.#state = "Disconnected";
    this.#connectionId = null;
    for (const listener of this.#listeners.close) listener(error);
  }
}
