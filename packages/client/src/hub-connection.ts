/**
 * A typed connection to a hub: one contract type gives `invoke`, `send`, `stream` and `on` their
 * method names, argument types and result types. Speaks SignalR's protocol, so it connects to
 * Hubwire servers and to ASP.NET Core SignalR servers. It holds the hub layer (the handshake,
 * calls both ways, keep-alive and reconnect) over an {@link HttpConnection}, which holds the
 * transport.
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
  type ClientMethods,
  HandshakeReader,
  type HubContract,
  type HubMessage,
  type InvocationMessage,
  MessageType,
  type MethodArgs,
  type MethodName,
  type MethodResult,
  parseHandshakeResponse,
  type ServerMethods,
  type StreamItemOf,
  TransferFormat,
  writeHandshakeRequest,
} from "@hubwire/protocol";
import * as ProtocolDefaults from "@hubwire/protocol/defaults";
import { ConnectionClosedError, TimeoutError } from "./errors.js";
import { HttpConnection, type HttpConnectionOptions } from "./http-connection.js";
import type { HubStream } from "./hub-stream.js";
import { type ClientMessageParser, type ClientProtocol, JsonClientProtocol } from "./json-protocol.js";
import { type KeepAlive, watchKeepAlive } from "./keep-alive.js";
import { type Logger, silentLogger } from "./logger.js";
import type { MessageBuffer, StatefulReconnect } from "./message-buffer.js";
import { type CallOptions, PendingInvocations } from "./pending-invocations.js";
import { delays, type RetryPolicy } from "./reconnect-policy.js";
import { sendUpload, takeUploads } from "./upload-streams.js";

/** The states of a connection, as SignalR names them. */
export type HubConnectionState = "Disconnected" | "Connecting" | "Connected" | "Disconnecting" | "Reconnecting";

/** Options of {@link HubConnection}: those of the connection below it, and the hub's own. Every duration is in milliseconds. */
export interface HubConnectionOptions extends HttpConnectionOptions {
  /** The hub protocol. Default JSON; pass `new MessagePackHubProtocol()` from `@hubwire/client/msgpack` for MessagePack. */
  readonly protocol?: ClientProtocol;
  /** Reconnect automatically: `true` (0, 2, 10, 30 s), a list of delays, or a policy. Default off. */
  readonly reconnect?: boolean | readonly number[] | RetryPolicy;
  /**
   * Survive a dropped transport with nothing lost (SignalR's stateful reconnect, over all three here; the server must
   * allow it): `statefulReconnect()` from `@hubwire/client/stateful-reconnect`.
   */
  readonly statefulReconnect?: StatefulReconnect;
  /** Close when nothing has come from the server for this long. Default 30 s. */
  readonly serverTimeoutMs?: number;
  /** Ping when nothing has been sent for this long. Default 15 s. */
  readonly keepAliveIntervalMs?: number;
  /** Give up on the handshake after this long. Default 15 s. */
  readonly handshakeTimeoutMs?: number;
  /**
   * Headers for each call the client makes (`invoke`, `send`, `stream`), asked for as it is sent:
   * for example the active trace context, so that the server's span of the call is its child, as
   * .NET's client sends it. With OpenTelemetry:
   * `invocationHeaders: () => { const carrier = {}; propagation.inject(context.active(), carrier); return carrier; }`.
   */
  readonly invocationHeaders?: () => Readonly<Record<string, string>> | undefined;
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

/** Adds a listener; returns what removes it. */
function listen<T>(listeners: Set<T>, listener: T): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
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
  readonly #options: HubConnectionOptions;
  readonly #protocol: ClientProtocol;
  readonly #connection: HttpConnection;
  readonly #logger: Logger;
  readonly #retry: RetryPolicy | undefined;
  readonly #keepAlive: KeepAlive;
  readonly #handlers = new Map<string, Array<(...args: never[]) => unknown>>();
  readonly #pending = new PendingInvocations();
  readonly #listeners = {
    close: new Set<(error?: Error) => void>(),
    reconnecting: new Set<(error?: Error) => void>(),
    reconnected: new Set<(id: string | null) => void>(),
  };
  #parser: ClientMessageParser | undefined;
  #handshake: { reader: HandshakeReader; done: (error?: Error) => void } | undefined;
  #buffer: MessageBuffer | undefined;
  #nextId = 0;
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
    const connection = (this.#connection = new HttpConnection(url, options));
    connection.onreceive = (data) => this.#receive(data);
    connection.onclose = (error) => this.#closed(error);
    if (options.statefulReconnect !== undefined) connection.resume = (error, connect, end) => this.#buffer?.dropped(error, connect, end);
    this.#keepAlive = watchKeepAlive(
      options.keepAliveIntervalMs ?? ProtocolDefaults.keepAliveIntervalMs,
      options.serverTimeoutMs ?? ProtocolDefaults.serverTimeoutMs,
      () => void this.#transmit(this.#protocol.write({ type: MessageType.Ping })).catch(() => undefined),
      () => this.#lost(new TimeoutError("Server timeout elapsed without receiving a message from the server.")),
    );
    const reconnect = options.reconnect;
    this.#retry =
      reconnect === undefined || reconnect === false
        ? undefined
        : typeof reconnect === "function"
          ? reconnect
          : delays(reconnect === true ? undefined : reconnect);
  }

  get state(): HubConnectionState {
    return this.#state;
  }

  /** The server's public id for this connection; null before connecting and with skipNegotiation. */
  get connectionId(): string | null {
    return this.#connection.connectionId;
  }

  /** The transport in use, by name. */
  get transport(): string | undefined {
    return this.#connection.transport?.name;
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
    this.#keepAlive.stop();
    // Straight to the transport, as the official client sends it: not buffered for replay.
    await this.#connection.send(this.#protocol.write({ type: MessageType.Close })).catch(() => undefined);
    await this.#connection.stop();
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
    return this.#pending.call(method, options, (register) => this.#call(MessageType.Invocation, method, args, register));
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
    return this.#pending.stream(
      options,
      (register) => this.#call(MessageType.StreamInvocation, method, args, register),
      (invocationId) => {
        if (this.#state === "Connected") void this.#send({ type: MessageType.CancelInvocation, invocationId }).catch(() => undefined);
      },
    );
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
    const connection = this.#connection;
    const stateful = await connection.start(this.#protocol.transferFormat === TransferFormat.Binary);
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
      ? this.#options.statefulReconnect!({
          protocol: this.#protocol,
          send: (data) => this.#transmit(data),
          connection,
          reset: () => {
            this.#parser = this.#protocol.createParser();
            this.#keepAlive.received();
          },
          live: () => this.#state === "Connected" && !this.#stopRequested && this.#serverClose === undefined,
          lost: (error) => this.#lost(error),
          options: this.#options,
        })
      : undefined;
    try {
      await this.#transmit(writeHandshakeRequest({ protocol: this.#protocol.name, version: stateful ? this.#protocol.version : 1 }));
      await handshakeDone;
    } catch (error) {
      this.#handshake = undefined;
      await connection.stop().catch(() => undefined);
      throw error;
    }
    // As the official client does: a first Ping right away, except where the transport keeps the connection alive.
    if (!connection.transport?.hasInherentKeepAlive) {
      await this.#transmit(this.#protocol.write({ type: MessageType.Ping }));
      this.#keepAlive.start();
    }
  }

  async #transmit(data: string | Uint8Array): Promise<void> {
    this.#keepAlive.sent();
    await this.#connection.send(data);
  }

  #send(message: HubMessage): Promise<void> {
    return this.#buffer !== undefined ? this.#buffer.send(message) : this.#transmit(this.#protocol.write(message));
  }

  /**
   * Sends an invocation; async iterables among the arguments become upload streams, numbered
   * before the invocation's own id (`register` receives it).
   */
  async #call(
    type: typeof MessageType.Invocation | typeof MessageType.StreamInvocation,
    target: string,
    args: readonly unknown[],
    register?: (invocationId: string) => void,
  ): Promise<void> {
    if (this.#state !== "Connected") throw new ConnectionClosedError(`Cannot send '${target}': the connection is ${this.#state}.`);
    const [plain, uploads] = takeUploads(args, () => String(this.#nextId++));
    const id = register === undefined ? undefined : String(this.#nextId++);
    if (id !== undefined) register!(id);
    // Absent fields (no id, no streams) are left off the wire, as the official client leaves them.
    const streamIds = uploads.length > 0 ? uploads.map(([streamId]) => streamId) : undefined;
    const headers = this.#options.invocationHeaders?.();
    await this.#send({ type, headers, invocationId: id, target, arguments: plain, streamIds } as InvocationMessage);
    for (const [streamId, upload] of uploads) {
      void sendUpload(
        streamId,
        upload,
        (message) => this.#send(message),
        () => this.#state === "Connected",
      );
    }
  }

  #receive(data: string | Uint8Array): void {
    this.#keepAlive.received();
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
      void this.#connection.stop();
    }
  }

  #dispatch(message: HubMessage): void {
    switch (message.type) {
      case MessageType.Invocation:
        return void this.#invokeHandlers(message);
      case MessageType.StreamItem:
      case MessageType.Completion:
        return this.#pending.receive(message);
      case MessageType.Close:
        this.#serverClose = {
          // A JSON server may write null for an absent field.
          error: message.error == null ? undefined : new Error(`Server returned an error on close: ${message.error}`),
          allowReconnect: message.allowReconnect === true,
        };
        return void this.#connection.stop();
      default:
        return;
    }
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

  /** The server is lost (silent past its timeout, or it did not resume): end the connection, allowing a reconnect. */
  #lost(error: Error): void {
    this.#serverClose = { error, allowReconnect: true };
    void this.#connection.stop();
  }

  /** The transport closed for good: end what waited on it, then reconnect or report the close. */
  #closed(error: Error | undefined): void {
    this.#keepAlive.stop();
    this.#buffer?.dispose();
    const serverClose = this.#serverClose;
    const reason = serverClose?.error ?? error;
    this.#pending.close(reason);
    const wasConnected = this.#state === "Connected";
    const mayReconnect = serverClose === undefined ? error !== undefined : serverClose.allowReconnect;
    if (!this.#stopRequested && wasConnected && mayReconnect && this.#retry !== undefined)
      return void this.#reconnect(reason ?? new Error("The connection was lost."));
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
        for (const listener of this.#listeners.reconnected) listener(this.connectionId);
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
    this.#connection.connectionId = null;
    for (const listener of this.#listeners.close) listener(error);
  }
}
