/**
 * One client connection on the server, as a state machine (negotiated, handshaking, connected,
 * reconnecting, closed): its handshake, the records it reads (parse), what it writes (through its
 * outbound batch), keep-alive and timeouts on the clock `tick` is given. The protocol it speaks is
 * agreed in `protocol-agreement.ts`, the client results it awaits live in `client-results.ts`. It
 * knows nothing of hubs: it hands checked messages to its {@link ConnectionEvents} and leaves
 * dispatch to the hub endpoint.
 *
 * @module
 */
import {
  type CompletionMessage,
  HandshakeReader,
  type HandshakeRecord,
  type HubMessage,
  type HubProtocol,
  isProtocolError,
  type MessageEnvelope,
  type MessageParser,
  MessageType,
  type ProtocolError,
  TransferFormat,
  type TransportName,
  writeHandshakeResponse,
} from "@hubwire/protocol";
import { ClientResults } from "./client-results.js";
import type { ClientResultOptions } from "./clients.js";
import type { ConnectionState, EndpointConnection } from "./connection-endpoint.js";
import type { ConnectionKeeper, ConnectionKeeping, TakenOver } from "./connection-keeping.js";
import type { Slot } from "./connection-limits.js";
import type { ConnectionRequest, Principal } from "./connection-request.js";
import { ErrorTexts } from "./error-texts.js";
import { ClientResultError } from "./errors.js";
import type { HubConnectionContext } from "./hub-connection-context.js";
import { KeptTraffic } from "./kept-traffic.js";
import type { Logger } from "./logger.js";
import type { HubMetrics } from "./metrics.js";
import { OutboundBatch, type OutboundSink } from "./outbound-batch.js";
import { agreeOnProtocol } from "./protocol-agreement.js";
import type { ReplayBudget } from "./replay-buffer.js";
import type { SerializedMessage } from "./serialized-message.js";
import { StatefulReconnect } from "./stateful-reconnect.js";
import { ConnectionTraffic, type TrafficTotals } from "./traffic.js";
import type { Transport } from "./transports/transport.js";

/** Limits and timings of a connection (a hub's options, resolved). */
export interface ConnectionSettings {
  readonly protocols: ReadonlyMap<string, HubProtocol>;
  readonly keepAliveIntervalMs: number;
  readonly clientTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  /** Bytes written to the transport and not yet flushed past which a (slow) client is cut. */
  readonly maxOutboundBufferBytes: number;
  /** How long a long-polling connection may go without a poll in flight. */
  readonly disconnectTimeoutMs: number;
  readonly maxMessageBytes: number;
  readonly enableDetailedErrors: boolean;
  /** Unacknowledged bytes kept per connection for stateful reconnect. */
  readonly statefulReconnectBufferBytes: number;
  /** How long a dropped stateful connection waits for its client to re-attach. */
  readonly statefulReconnectWindowMs: number;
  /** Shared by every connection's replay buffer. */
  readonly replayBudget: ReplayBudget;
  /** Where stateful connections are kept for another node to resume (connection-keeping.ts); none: they die with this node. */
  readonly keeping?: ConnectionKeeping | undefined;
  readonly logger: Logger;
  readonly metrics: HubMetrics;
  /** The hub's message totals on this node, which each connection's traffic counts into. */
  readonly traffic?: TrafficTotals;
  readonly now: () => number;
}

/** What a connection reports to the hub endpoint that owns it. */
export interface ConnectionEvents {
  /** The handshake succeeded. */
  connected(connection: HubConnection): void;
  /** A connection another node held and lost was taken over here ({@link HubConnection.restore}); its client re-attaches next. */
  resumed(connection: HubConnection): void;
  /** A message arrived (Completions of client results are handled by the connection itself). */
  message(connection: HubConnection, message: HubMessage): void;
  /**
   * A message whose payload the protocol refused (nested too deep, a forbidden key): its call
   * fails, as SignalR fails a call whose arguments do not bind; the connection reads on.
   */
  refused(connection: HubConnection, envelope: MessageEnvelope, error: ProtocolError): void;
  /** Resolves once the calls the connection made so far have been answered. */
  callsAnswered(connection: HubConnection): Promise<void>;
  /** The connection is over; `error` is undefined for a clean close. Called once. */
  closed(connection: HubConnection, error: Error | undefined): void;
}

/**
 * The state of a connection. `reconnecting`: a stateful connection whose transport dropped, waiting
 * for its client to re-attach; sends are kept for the replay meanwhile.
 */
export type { ConnectionState };

/** Stateful reconnect numbers and buffers Invocation through CancelInvocation (types 1 to 5). */
function isTrackableType(type: number): boolean {
  return type >= MessageType.Invocation && type <= MessageType.CancelInvocation;
}

/**
 * A server-side hub connection.
 *
 * Timing is driven from outside by {@link HubConnection.tick}: one timer per hub endpoint visits
 * every connection, instead of a timer or two per connection.
 */
export class HubConnection implements HubConnectionContext, EndpointConnection, OutboundSink {
  readonly connectionId: string;
  readonly connectionToken: string;
  #items: Map<unknown, unknown> | undefined;
  /** When the current state began: negotiated, handshaking, or reconnecting (their timeouts count from it). */
  #stateSince: number;
  principal: Principal | undefined;
  /** When the principal expires, on the monotonic clock of `tick`; undefined for no expiry. */
  #expiresAt: number | undefined;
  request: ConnectionRequest | undefined;
  #state: ConnectionState = "negotiated";
  #transport: Transport | undefined;
  #protocol: HubProtocol | undefined;
  #parser: MessageParser | undefined;
  #handshake: HandshakeReader | undefined;
  /** When the handshake completed (0 before). */
  connectedAt = 0;
  /** The transport the handshake completed over; undefined before (so: whether it ever connected). */
  connectedOver: TransportName | undefined;
  /** Bad input arrived: nothing more is read while the calls before it are answered. */
  #inputRefused = false;
  /** Whether it ended because a timeout passed (the client went silent, or never shook hands). */
  timedOut = false;
  #lastReceivedAt = 0;
  #lastSentAt = 0;
  /** Made when first asked for (most connections never are); aborted when the connection ends. */
  #abort: AbortController | undefined;
  #endReason: Error | undefined;
  readonly #settings: ConnectionSettings;
  readonly #events: ConnectionEvents;
  /** Client results awaited; made on the first one (most connections never are asked). */
  #clientResults: ClientResults | undefined;
  readonly #outbound = new OutboundBatch(this);
  /** Set by negotiate when both sides asked for stateful reconnect. */
  statefulReconnectNegotiated = false;
  #stateful: StatefulReconnect | undefined;
  /** Its traffic when kept outside this node (connection-keeping.ts): writes and dispatch wait for their store. */
  #kept: KeptTraffic | undefined;
  /** The place under the server's connection limits this connection holds; its endpoint frees it. */
  slot: Slot | undefined;
  /** Messages and bytes in and out, for inspection. */
  readonly traffic: ConnectionTraffic;

  constructor(ids: { connectionId: string; connectionToken: string }, settings: ConnectionSettings, events: ConnectionEvents) {
    this.connectionId = ids.connectionId;
    this.connectionToken = ids.connectionToken;
    this.#settings = settings;
    this.#events = events;
    this.#stateSince = settings.now();
    this.traffic = new ConnectionTraffic(settings.traffic);
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** When the current state began (for a negotiated connection: when negotiate made it). */
  get stateSince(): number {
    return this.#stateSince;
  }

  /** Per-connection state for the application (SignalR's `Context.Items`); made on first use. */
  get items(): Map<unknown, unknown> {
    return (this.#items ??= new Map());
  }

  get userId(): string | undefined {
    return this.principal?.userId;
  }

  /** The hub protocol agreed in the handshake. */
  get protocol(): HubProtocol | undefined {
    return this.#protocol;
  }

  get transport(): Transport | undefined {
    return this.#transport;
  }

  /** Aborted when the connection ends (SignalR's `ConnectionAborted`). */
  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      this.#abort = new AbortController();
      if (this.#state === "closed") this.#abort.abort(this.#endReason);
    }
    return this.#abort.signal;
  }

  /** Whether a new transport request of its kind with this connection's token resumes it (stateful reconnect). */
  get canReattach(): boolean {
    return this.#stateful !== undefined && (this.#state === "reconnecting" || this.#state === "connected");
  }

  /** Binds the transport; the handshake timeout starts now. */
  attach(transport: Transport, request: ConnectionRequest, principal: Principal | undefined): void {
    if (this.#state !== "negotiated") throw new Error(`Connection ${this.connectionId} already has a transport.`);
    this.#transport = transport;
    this.request = request;
    this.#state = "handshaking";
    this.#handshake = new HandshakeReader({ maxHandshakeBytes: this.#settings.maxMessageBytes });
    this.#stateSince = this.#lastReceivedAt = this.#lastSentAt = this.#settings.now();
    this.#authenticated(principal);
  }

  /** Takes the principal, and its expiry onto the monotonic clock that `tick` is given. */
  #authenticated(principal: Principal | undefined): void {
    this.principal = principal;
    const expiresAtMs = principal?.expiresAtMs;
    this.#expiresAt = expiresAtMs === undefined ? undefined : this.#settings.now() + (expiresAtMs - Date.now());
  }

  receive(from: Transport, chunk: Uint8Array): void {
    if (this.#state === "closed" || from !== this.#transport || this.#inputRefused) return;
    this.#lastReceivedAt = this.#settings.now();
    this.traffic.read(chunk.length);
    if (this.#state === "handshaking") {
      let record: HandshakeRecord | undefined;
      try {
        record = this.#handshake!.push(chunk);
      } catch (error) {
        if (!isProtocolError(error)) throw error;
        return this.#refuseInput(error);
      }
      if (record === undefined) return;
      this.#handshake = undefined;
      if (!this.#completeHandshake(record.handshake)) return;
      chunk = record.remaining;
      if (chunk.length === 0) return;
    }
    // One message at a time, as SignalR's dispatch loop reads them: the calls before a bad record
    // run (and are answered) before the connection closes for it.
    const parser = this.#parser!;
    parser.feed(chunk);
    for (;;) {
      let message: HubMessage | undefined;
      try {
        message = parser.next();
      } catch (error) {
        if (!isProtocolError(error)) throw error;
        if (error.envelope === undefined) return this.#refuseInput(error);
        // Only its payload was refused: that call fails, and the connection reads on.
        if (this.#isNew(error.envelope) && !this.#completeClientResult(error.envelope.invocationId, error)) {
          const envelope = error.envelope;
          if (this.#kept === undefined) this.#events.refused(this, envelope, error);
          // Counted by stateful reconnect like any message: its receipt is stored as theirs is.
          else this.#kept.hold(() => this.#events.refused(this, envelope, error), { through: this.#stateful!.latestReceivedId });
        }
        continue;
      }
      // A message handled earlier in this chunk may have closed the connection.
      if (message === undefined || (this.#state as ConnectionState) === "closed") return;
      if (this.#stateful !== undefined) {
        const verdict = this.#stateful.accept(message);
        if (message.type === MessageType.Ack) this.#kept?.keeper.acknowledged(this.#stateful.buffer.firstSequenceId - 1);
        if (verdict === "drop") continue;
        if (verdict !== "process") return this.close({ error: verdict.fatal });
        if (this.#kept !== undefined) {
          const received = message;
          const trackable = isTrackableType(received.type) ? { through: this.#stateful.latestReceivedId, message: received } : undefined;
          this.#kept.hold(() => this.#dispatch(received), trackable);
          continue;
        }
      }
      this.#dispatch(message);
    }
  }

  #dispatch(message: HubMessage): void {
    if (message.type !== MessageType.Completion || !this.#completeClientResult(message.invocationId, message)) {
      this.#settings.metrics.messageReceived();
      this.traffic.received();
      this.#events.message(this, message);
    }
  }

  /** Starts keeping the connection outside this node: from now on its writes wait for their store. */
  #keep(keeper: ConnectionKeeper, stored?: { readonly sentThrough: number; readonly receivedThrough: number }): void {
    const writeOut = (bytes: Uint8Array) => {
      if (this.#transport !== undefined && this.#state === "connected") this.#outbound.add(bytes);
    };
    this.#kept = new KeptTraffic(
      keeper,
      writeOut,
      (error) => this.#keepingFailed(error),
      () => this.#state !== "closed",
      stored,
    );
  }

  /** A store failed: the connection can no longer be resumed as it is, so it ends with a Close that lets its client reconnect. */
  #keepingFailed(error: unknown): void {
    const kept = this.#kept;
    if (kept === undefined || this.#state === "closed") return;
    this.#kept = undefined;
    kept.keeper.ended();
    this.#settings.logger.log("warn", "Closing a stateful connection whose state could not be kept for a reconnect.", {
      connectionId: this.connectionId,
      error: (error as Error).message,
    });
    this.close({ error: "Connection closed: the server could not keep its state for a reconnect.", allowReconnect: true });
  }

  /**
   * Takes over a connection another node held and lost (connection-keeping.ts): the same ids,
   * protocol, user and unacknowledged messages, waiting for its client to re-attach as after a
   * dropped transport; the calls it had open there are answered with an error. False (and nothing
   * changed) when this node does not speak its protocol.
   */
  restore(taken: TakenOver): boolean {
    const kept = taken.connection;
    const protocol = this.#settings.protocols.get(kept.protocol);
    if (protocol === undefined || this.#state !== "negotiated") return false;
    const now = this.#settings.now();
    this.#protocol = protocol;
    this.#parser = protocol.createParser();
    this.#state = "reconnecting";
    this.#stateSince = this.connectedAt = this.#lastReceivedAt = this.#lastSentAt = now;
    this.connectedOver = kept.transport;
    this.traffic.over(kept.transport);
    this.principal = kept.userId === undefined ? undefined : { userId: kept.userId };
    this.statefulReconnectNegotiated = true;
    this.#stateful = this.#newStateful();
    this.#stateful.restore(kept.receivedThrough);
    this.#stateful.buffer.restore(kept.messages, kept.lastSequenceId);
    // What the node that died stored is stored: the replay goes out at once.
    this.#keep(taken.keeper, { sentThrough: kept.lastSequenceId, receivedThrough: kept.receivedThrough });
    this.#events.resumed(this);
    for (const invocationId of kept.openInvocations) this.sendCompletion({ type: MessageType.Completion, invocationId, error: ErrorTexts.callLostWithNode });
    return true;
  }

  #newStateful(): StatefulReconnect {
    return new StatefulReconnect(this.#settings.statefulReconnectBufferBytes, this.#settings.replayBudget, (bytes) =>
      this.#write(bytes, this.#stateful!.buffer.lastSequenceId),
    );
  }

  /**
   * Whether a message whose payload was refused is new: stateful reconnect counts it like any
   * other, so that a replayed copy is dropped as a duplicate.
   */
  #isNew(envelope: MessageEnvelope): boolean {
    if (this.#stateful === undefined) return true;
    const verdict = this.#stateful.accept({ type: envelope.type } as HubMessage);
    if (verdict === "process") return true;
    if (verdict !== "drop") this.close({ error: verdict.fatal });
    return false;
  }

  /**
   * Input that cannot be read on: nothing more is read, and once the calls that arrived before
   * it have been answered (as .NET's dispatch loop answers them before it parses the bad record),
   * the connection closes with SignalR's generic error, allowing a reconnect as .NET's Close does.
   * A call that never ends does not hold the connection past the client timeout.
   */
  #refuseInput(error: ProtocolError): void {
    this.#settings.metrics.error("protocol");
    this.#settings.logger.log("warn", "Closing a connection that sent bad input.", {
      connectionId: this.connectionId,
      code: error.code,
      reason: error.message,
    });
    const close = () => this.close({ error: this.#describe(ErrorTexts.connectionClosedWithError, error), allowReconnect: true, cause: error });
    if (this.#state !== "connected") return close();
    // Read on and drop (a paused socket could not read the client's answer to the Close).
    this.#inputRefused = true;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#settings.clientTimeoutMs)));
    void Promise.race([this.#events.callsAnswered(this), bound]).then(() => {
      clearTimeout(timer);
      close();
    });
  }

  transportClosed(from: Transport, error?: Error): void {
    if (from !== this.#transport) return;
    if (this.#state === "connected" && this.#stateful !== undefined) {
      // The client will try to re-attach with the same token: keep everything for a while.
      this.#settings.logger.log("debug", "A stateful connection lost its transport; waiting for it to re-attach.", {
        connectionId: this.connectionId,
      });
      this.#state = "reconnecting";
      this.#transport = undefined;
      // Whatever had not left yet is in the replay buffer and goes out on the next transport.
      this.#outbound.discard();
      this.#kept?.discard();
      this.#stateSince = this.#settings.now();
      this.#stateful.disconnected();
      return;
    }
    this.#finish(error);
  }

  /** The client ended the connection (a long poll's DELETE): a clean end, with no re-attach to wait for. */
  clientEnded(from: Transport): void {
    if (from === this.#transport) this.#finish(undefined);
  }

  /**
   * Re-attaches a transport to a stateful connection that lost its own: no handshake, the same
   * protocol and ids; sends Sequence, then replays every unacknowledged message. `principal` is
   * the new request's, of the same user (the endpoint refuses another): its token may be a
   * fresher one, whose expiry then applies.
   */
  reattach(transport: Transport, principal: Principal | undefined): void {
    if (!this.canReattach) throw new Error(`Connection ${this.connectionId} cannot re-attach a transport.`);
    this.#authenticated(principal);
    if (this.#state === "connected") {
      // The client re-attached before this side saw its old socket drop: retire the old one.
      const old = this.#transport!;
      this.#transport = undefined;
      this.#outbound.discard();
      this.#kept?.discard();
      old.close(1000);
      this.#stateful!.disconnected();
    }
    this.#transport = transport;
    this.#parser = this.#protocol!.createParser();
    this.#state = "connected";
    this.#lastReceivedAt = this.#lastSentAt = this.#settings.now();
    const buffer = this.#stateful!.buffer;
    this.#sendBytes(this.#encode({ type: MessageType.Sequence, sequenceId: buffer.firstSequenceId }), false);
    for (const entry of buffer.entries) this.#write(entry.bytes, entry.sequenceId);
  }

  /**
   * Writes a message that may be shared with other connections. Returns a promise when the
   * connection's stateful-reconnect buffer is full: the sender should wait (back-pressure).
   */
  write(message: SerializedMessage): void | Promise<void> {
    const trackable = isTrackableType(message.type);
    if (!this.#isWritable(trackable)) return;
    this.#settings.metrics.messageSent();
    this.traffic.sent();
    return this.#sendBytes(message.bytesFor(this.#protocol!), trackable);
  }

  /** Writes a message to this connection only; a promise means "wait before sending more". */
  send(message: HubMessage): void | Promise<void> {
    const trackable = isTrackableType(message.type);
    if (!this.#isWritable(trackable)) return;
    this.#settings.metrics.messageSent();
    this.traffic.sent();
    return this.#sendBytes(this.#encode(message), trackable, message.type === MessageType.Completion ? message.invocationId : undefined);
  }

  /**
   * Sends a Completion, which must arrive: when the protocol cannot write it (a broken encoder),
   * the connection closes with an error instead, so that its call still ends.
   */
  sendCompletion(message: CompletionMessage): void {
    try {
      void this.send(message);
    } catch (error) {
      if (!isProtocolError(error)) throw error;
      this.#cannotWrite(message, error);
    }
  }

  /** Sends a message of the connection's own (a Ping, an Ack); one that cannot be written ends it. */
  #sendOwn(message: HubMessage): void {
    try {
      void this.send(message);
    } catch (error) {
      if (!isProtocolError(error)) throw error;
      this.#cannotWrite(message, error);
    }
  }

  #cannotWrite(message: HubMessage, error: ProtocolError): void {
    this.#settings.logger.log("error", "The protocol cannot write a message the connection must send; closing the connection.", {
      connectionId: this.connectionId,
      protocol: this.#protocol?.name,
      type: message.type,
      error,
    });
    this.close({ error: this.#describe(ErrorTexts.connectionClosedWithError, error), cause: error });
  }

  #isWritable(isTrackable: boolean): boolean {
    // While a stateful connection waits to re-attach, trackable messages are kept for the replay.
    return this.#state === "connected" || (this.#state === "reconnecting" && isTrackable);
  }

  #encode(message: HubMessage): Uint8Array {
    const written = this.#protocol!.write(message);
    return typeof written === "string" ? Buffer.from(written, "utf8") : written;
  }

  invokeClient(method: string, args: readonly unknown[], options: ClientResultOptions): Promise<unknown> {
    if (this.#state !== "connected" && this.#state !== "reconnecting") {
      return Promise.reject(new ClientResultError(`Connection '${this.connectionId}' is not connected.`));
    }
    return (this.#clientResults ??= new ClientResults()).invoke((message) => void this.send(message), method, args, options);
  }

  /**
   * Ends the connection: sends a Close message (with `error` and `allowReconnect` if given), then
   * closes the transport. `cause` is what `onDisconnected` sees; none means a clean close.
   */
  close(options: { error?: string; allowReconnect?: boolean; cause?: Error } = {}): void {
    if (this.#state === "closed") return;
    if (this.#state === "connected") {
      try {
        void this.send({
          type: MessageType.Close,
          ...(options.error === undefined ? {} : { error: options.error }),
          ...(options.allowReconnect === undefined ? {} : { allowReconnect: options.allowReconnect }),
        });
      } catch (error) {
        // The protocol cannot write even a Close: end the transport without one.
        this.#settings.logger.log("error", "The protocol cannot write a Close message.", { connectionId: this.connectionId, error });
      }
      this.#kept?.flush();
      this.#outbound.flush();
    }
    this.#transport?.close(1000);
    this.#finish(options.cause ?? (options.error === undefined ? undefined : new Error(options.error)));
  }

  /** The server is shutting down: a Close that lets the client reconnect (to another node, or to this one once it is back). */
  shutDown(): void {
    this.close({ error: "The server is shutting down.", allowReconnect: true });
  }

  /**
   * Ends the connection without a Close message (SignalR's `Context.Abort()`). `reason` becomes the
   * error `onDisconnected` sees; none means a clean end.
   */
  abort(reason?: string): void {
    if (this.#state === "closed") return;
    this.#transport?.close(1000);
    this.#finish(reason === undefined ? undefined : new Error(reason));
  }

  /** Runs the keep-alive and the timeouts. Called by the hub endpoint's timer. */
  tick(now: number): void {
    const settings = this.#settings;
    const transport = this.#transport;
    if (this.#expiresAt !== undefined && now >= this.#expiresAt) {
      settings.logger.log("debug", "The connection's authentication expired.", { connectionId: this.connectionId });
      this.close({ error: "Connection closed: its authentication expired.", allowReconnect: true });
      return;
    }
    if (this.#state === "reconnecting") {
      if (now - this.#stateSince >= settings.statefulReconnectWindowMs) {
        this.#finish(new Error("The client did not re-attach within the stateful reconnect window."));
      }
      return;
    }
    // A kept connection acknowledges only what is stored as received: the next node resumes from there.
    const ack = this.#state === "connected" ? this.#stateful?.takeAck(this.#kept?.receivedStored) : undefined;
    if (ack !== undefined) this.#sendOwn({ type: MessageType.Ack, sequenceId: ack });
    if (transport?.hasInherentKeepAlive === true) {
      if (transport.idleSince !== undefined && now - transport.idleSince >= settings.disconnectTimeoutMs) {
        this.#settings.logger.log("debug", "No poll within the disconnect timeout.", { connectionId: this.connectionId });
        if (this.#state === "connected" && this.#stateful !== undefined) {
          // As a dropped WebSocket: the client may still re-attach within the reconnect window.
          transport.close(1000);
          return this.transportClosed(transport);
        }
        this.timedOut = true;
        this.abort("The client stopped polling.");
        return;
      }
    }
    if (this.#state === "handshaking" && now - this.#stateSince >= settings.handshakeTimeoutMs) {
      this.#settings.logger.log("debug", "No handshake within the handshake timeout.", { connectionId: this.connectionId });
      this.timedOut = true;
      this.abort("The client did not complete the handshake in time.");
    } else if (this.#state === "connected" && transport?.hasInherentKeepAlive === false) {
      if (now - this.#lastReceivedAt >= settings.clientTimeoutMs) {
        this.#settings.logger.log("debug", "Nothing heard within the client timeout.", { connectionId: this.connectionId });
        this.timedOut = true;
        this.close({
          error: "Connection closed: the server heard nothing from the client within its timeout.",
          cause: new Error("The client timed out."),
        });
      } else if (now - this.#lastSentAt >= settings.keepAliveIntervalMs) {
        this.#sendOwn({ type: MessageType.Ping });
      }
    }
  }

  /** The generic text, with the cause appended when detailed errors are on. */
  #describe(generic: string, error: Error): string {
    return this.#settings.enableDetailedErrors ? `${generic} ${error.name}: ${error.message}` : generic;
  }

  #completeHandshake(text: string): boolean {
    const agreed = agreeOnProtocol(text, this.#settings.protocols, this.#transport!.supportsBinary);
    if ("error" in agreed) return this.#refuseHandshake(agreed.error);
    const { protocol, version } = agreed;
    this.#protocol = protocol;
    this.#parser = protocol.createParser();
    this.#state = "connected";
    this.connectedAt = this.#settings.now();
    this.connectedOver = this.#transport!.name;
    this.traffic.over(this.connectedOver);
    if (this.statefulReconnectNegotiated && version >= 2) {
      this.#stateful = this.#newStateful();
      const keeping = this.#settings.keeping;
      if (keeping !== undefined) {
        const identity = { connectionId: this.connectionId, connectionToken: this.connectionToken, userId: this.userId };
        const reconnectWindowMs = this.#settings.statefulReconnectWindowMs;
        this.#keep(keeping.keep({ ...identity, protocol: protocol.name, transport: this.connectedOver, reconnectWindowMs }));
      }
    }
    this.#sendBytes(Buffer.from(writeHandshakeResponse({}), "utf8"), false);
    this.#events.connected(this);
    return true;
  }

  #refuseHandshake(error: string): false {
    this.#settings.metrics.error("handshake");
    this.#settings.logger.log("debug", "Handshake refused.", { connectionId: this.connectionId, error });
    // The answer goes out as text: no protocol was agreed, and the clients read either.
    this.#transport!.send(Buffer.from(writeHandshakeResponse({ error }), "utf8"), false);
    this.#transport!.close(1000);
    this.#finish(new Error(error));
    return false;
  }

  /** `answers`: the invocation a Completion answers (a kept connection's store closes that call). */
  #sendBytes(bytes: Uint8Array, isTrackable: boolean, answers?: string): void | Promise<void> {
    const buffer = this.#stateful?.buffer;
    if (isTrackable && buffer !== undefined) {
      const kept = buffer.offer(bytes);
      if (kept === "overflow") {
        this.#settings.logger.log("warn", "Closing a connection: the server's replay buffers are over their shared limit.", {
          connectionId: this.connectionId,
        });
        this.#transport?.close(1011);
        this.#finish(new Error("The server's replay buffers are over their shared limit."));
        return;
      }
      this.#kept?.store(buffer.lastOfferedSequenceId, bytes, answers);
      if (kept === "held") {
        // Waiting for the client's acknowledgements, bounded as a transport's unsent bytes are.
        if (buffer.heldBytes > this.#settings.maxOutboundBufferBytes)
          this.#cutSlowClient("The client fell too far behind: what it has not acknowledged is over the limit.");
        return buffer.whenNotFull();
      }
      this.#write(bytes, buffer.lastSequenceId);
      return buffer.isFull ? buffer.whenNotFull() : undefined;
    }
    this.#write(bytes);
  }

  /**
   * Queues bytes for the transport's next write, if there is one to write to. `sequenceId`: the
   * trackable message it is, which a kept connection writes only once stored (0: none to wait for).
   */
  #write(bytes: Uint8Array, sequenceId = 0): void {
    if (this.#transport !== undefined && this.#state === "connected") {
      this.#lastSentAt = this.#settings.now();
      if (this.#kept === undefined) this.#outbound.add(bytes);
      else this.#kept.write(bytes, sequenceId);
    }
  }

  /** One transport write of the records this tick produced (called by the outbound batch). */
  writeBatch(chunk: Uint8Array): void {
    const transport = this.#transport;
    if (transport === undefined || this.#state !== "connected") return;
    transport.send(chunk, this.#protocol?.transferFormat === TransferFormat.Binary);
    this.traffic.wrote(chunk.length);
    // A client that stops reading must not grow this process's memory without bound.
    if (transport.bufferedBytes > this.#settings.maxOutboundBufferBytes)
      this.#cutSlowClient("The client fell too far behind: its outbound buffer is over the limit.");
  }

  /** Ends a connection whose client does not read (or acknowledge) what it is sent. */
  #cutSlowClient(reason: string): void {
    this.#settings.logger.log("warn", "Cutting a client that does not read what it is sent.", { connectionId: this.connectionId });
    this.#settings.metrics.slowConsumerCut();
    this.#transport?.close(1008, "The client is not reading fast enough.");
    this.#finish(new Error(reason));
  }

  #completeClientResult(invocationId: string | undefined, answer: CompletionMessage | ProtocolError): boolean {
    return this.#clientResults?.complete(invocationId, answer) ?? false;
  }

  #finish(error: Error | undefined): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#endReason = error ?? new Error("The connection closed.");
    this.#abort?.abort(this.#endReason);
    this.#clientResults?.rejectAll(this.connectionId);
    this.#outbound.discard();
    this.#kept?.discard();
    this.#kept?.keeper.ended();
    this.#parser = undefined;
    this.#handshake = undefined;
    this.#stateful?.buffer.clear();
    this.#events.closed(this, error);
  }
}
