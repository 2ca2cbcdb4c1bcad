/**
 * The Redis backplane: a lifetime manager that makes hub servers in several processes act as one
 * hub. Local connections are served directly (no round trip through Redis); everything else goes
 * through pub/sub channels per hub, connection, group and user, with each message encoded once
 * per protocol on the sending node and written as received on the others.
 *
 * Failure behaviour, by design:
 * - A send reaches local connections first. If Redis cannot take it (not connected, or no answer
 *   within `publishTimeoutMs`), the send rejects with `BackplaneError`, is logged and counted:
 *   it is never queued to be delivered at some unknown later time, so memory stays bounded while
 *   Redis is away, and never lost silently.
 * - Nodes announce themselves on the hub's `all` channel every `heartbeatIntervalMs`. From the
 *   moment either of this node's Redis connections drops until three intervals after both are
 *   back, a send to all that Redis hands to fewer subscribers than the nodes alive when the outage
 *   began (one that has not re-subscribed yet) rejects too. Group, user and connection sends
 *   cannot tell an empty group from a node that missed them: in those seconds they can be missed
 *   without an error (see docs/scaling.md).
 * - Every message carries an id; a node delivers an id once, so a publish that ioredis resends
 *   after a reconnect, or a message that reaches a node through two channels, is not duplicated.
 * - Subscriptions are restored by ioredis when Redis comes back; health is observable.
 *
 * @module
 */
import { ErrorCode, JsonHubProtocol, MessageType, type HubProtocol, type InvocationMessage } from "@hubwire/protocol";
import { MessagePackHubProtocol } from "@hubwire/protocol-msgpack";
import {
  ClientResultError,
  MemoryLifetimeManager,
  SerializedMessage,
  UnknownConnectionError,
  silentLogger,
  type ClientResultOptions,
  type HubLifetimeManager,
  type Logger,
  type ManagedConnection,
  type SendTarget,
} from "@hubwire/server";
import type { MeterProvider } from "@opentelemetry/api";
import { Redis, type Cluster, type RedisOptions } from "ioredis";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { HubChannels } from "./channels.js";
import { DeadlineQueue } from "./deadline-queue.js";
import { observeBackplane } from "./backplane-metrics.js";
import { decodeEnvelope, encodeEnvelope, EnvelopeKind, type Envelope, type TargetKind } from "./envelope.js";

/** An ioredis client or cluster. */
export type RedisClient = Redis | Cluster;

/** Options of {@link RedisLifetimeManager}. */
export interface RedisBackplaneOptions {
  /** Publishes. The caller creates it and closes it. */
  readonly publisher: RedisClient;
  /**
   * Subscribes: another client (a subscribed Redis connection cannot publish). In sharded mode
   * it may be the publisher itself, a Cluster created with `shardedSubscribers: true`.
   */
  readonly subscriber: RedisClient;
  /** Use Redis 7 sharded pub/sub (SPUBLISH/SSUBSCRIBE), for Redis Cluster. Default false. */
  readonly sharded?: boolean;
  /** Channel prefix, per application sharing a Redis. Default `"hubwire"`. */
  readonly prefix?: string;
  /** How long to wait for the node holding a connection to acknowledge a group change or a client-result request. Default 5 s. */
  readonly ackTimeoutMs?: number;
  /** A publish Redis has not answered within this long fails. Default 2 s. */
  readonly publishTimeoutMs?: number;
  /** How often a node announces itself and probes Redis. Default 2 s; a node unheard for three intervals is gone. */
  readonly heartbeatIntervalMs?: number;
  readonly logger?: Logger;
  /** Where the backplane's health metrics go (OpenTelemetry). Default: the global MeterProvider. */
  readonly meterProvider?: MeterProvider;
}

/** Options for one hub's manager. */
export interface RedisLifetimeManagerOptions extends RedisBackplaneOptions {
  readonly hubName: string;
}

/**
 * A send or command that could not reach the other nodes (Redis down, or no answer within the
 * acknowledgement timeout). Awaiting a send through the backplane rejects with it; the
 * connections on this node were still reached.
 *
 * @example
 * ```ts
 * try {
 *   await ctx.clients.group(room).receive(user, text);
 * } catch (error) {
 *   if (error instanceof BackplaneError) throw new HubError("Sent here, but other servers could not be reached; try again.");
 *   throw error;
 * }
 * ```
 */
export class BackplaneError extends Error {
  override readonly name = "BackplaneError";
  readonly code = ErrorCode.BackplaneUnavailable;
}

/** Counters for metrics and tests. */
export interface BackplaneStats {
  published: number;
  publishFailures: number;
  received: number;
  duplicatesDropped: number;
  malformedDropped: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

const SEEN_LIMIT = 10_000;

/** Liveness and outage times in milliseconds that a wall-clock jump cannot move. */
const monotonicNow = (): number => performance.now();

/**
 * The lifetime manager for one hub on one node. Create it through {@link redisLifetimeManager}.
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * import { createHubServer } from "@hubwire/server";
 * import { redisLifetimeManager } from "@hubwire/redis";
 *
 * const hubs = createHubServer({
 *   hubs: { "/chat": chat },
 *   lifetimeManager: redisLifetimeManager({ publisher: new Redis(url), subscriber: new Redis(url), prefix: "myapp" }),
 * });
 * ```
 */
export class RedisLifetimeManager implements HubLifetimeManager {
  readonly serverId = `${hostname()}_${randomBytes(8).toString("hex")}`;
  readonly stats: BackplaneStats = { published: 0, publishFailures: 0, received: 0, duplicatesDropped: 0, malformedDropped: 0 };
  readonly channels: HubChannels;
  readonly #local = new MemoryLifetimeManager();
  readonly #publisher: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #sharded: boolean;
  readonly #ackTimeoutMs: number;
  readonly #publishTimeoutMs: number;
  readonly #publishDeadlines: DeadlineQueue;
  readonly #logger: Logger;
  readonly #protocols: readonly HubProtocol[] = [new JsonHubProtocol(), new MessagePackHubProtocol()];
  /** Channel subscriptions and how many local reasons hold each. */
  readonly #subscriptions = new Map<string, number>();
  /** Message ids delivered recently, oldest first. */
  readonly #seen = new Set<string>();
  readonly #pending = new Map<string, Pending>();
  readonly #healthListeners = new Set<(healthy: boolean) => void>();
  readonly #onMessage: (channel: Buffer, message: Buffer) => void;
  readonly #onStatus: () => void;
  readonly #heartbeatIntervalMs: number;
  readonly #heartbeat: NodeJS.Timeout;
  /** Other nodes of this hub, by server id, and when each was last heard. */
  readonly #nodes = new Map<string, number>();
  /** Whether the last heartbeat publish went through (a paused Redis keeps its sockets "ready"). */
  #probeOk = true;
  /**
   * When this node lost either Redis connection, kept through the recovery window after both are
   * back: meanwhile sends to all check that every node alive when it began received them.
   */
  #outageSince: number | undefined;
  /** When the recovery window ends: three heartbeat intervals after both connections are back. */
  #recoveringUntil = 0;
  #wasReady = false;
  #everReady = false;
  #healthy: boolean;
  #counter = 0;
  #closed = false;
  readonly #stopObserving: () => void;

  constructor(options: RedisLifetimeManagerOptions) {
    this.channels = new HubChannels(options.prefix ?? "hubwire", options.hubName);
    this.#publisher = options.publisher;
    this.#subscriber = options.subscriber;
    this.#sharded = options.sharded ?? false;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
    this.#publishTimeoutMs = options.publishTimeoutMs ?? 2_000;
    this.#publishDeadlines = new DeadlineQueue(this.#publishTimeoutMs);
    this.#logger = options.logger ?? silentLogger;
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs ?? 2_000;
    this.#stopObserving = observeBackplane(
      {
        hubName: options.hubName,
        isConnected: () => this.#publisher.status === "ready" && this.#subscriber.status === "ready",
        nodeCount: () => 1 + this.liveNodeCount,
        stats: this.stats,
      },
      options.meterProvider,
    );
    this.#onMessage = (_channel, message) => this.#receive(message);
    this.#subscriber.on(this.#sharded ? "smessageBuffer" : "messageBuffer", this.#onMessage);
    this.#healthy = this.#computeHealth();
    this.#wasReady = this.#everReady = this.#publisher.status === "ready" && this.#subscriber.status === "ready";
    this.#onStatus = () => {
      const ready = this.#publisher.status === "ready" && this.#subscriber.status === "ready";
      // The outage starts at the first connection lost, not when both are back: a publisher can be
      // ready again while a subscriber (this node's or another's) still is not.
      if (!ready && this.#everReady) this.#outageSince ??= monotonicNow();
      if (ready && !this.#wasReady && this.#everReady) this.#recoveringUntil = monotonicNow() + 3 * this.#heartbeatIntervalMs;
      // Subscriptions asked for while Redis was away may have failed; ask again (it is idempotent).
      if (ready && !this.#wasReady) void this.#resubscribeAll();
      if (ready) this.#everReady = true;
      this.#wasReady = ready;
      this.#updateHealth();
      // Back after an outage: tell the others at once instead of at the next interval.
      if (this.#publisher.status === "ready" && this.#subscriber.status === "ready") void this.#beat();
    };
    for (const client of new Set([this.#publisher, this.#subscriber])) {
      for (const event of ["ready", "close", "end", "reconnecting", "connect"]) client.on(event, this.#onStatus);
      client.on("error", this.#onError);
    }
    for (const channel of [this.channels.all, this.channels.groupCommands, this.channels.server(this.serverId)]) {
      void this.#subscribe(channel);
    }
    this.#heartbeat = setInterval(() => void this.#beat(), this.#heartbeatIntervalMs).unref();
    void this.#beat();
  }

  /**
   * Other nodes heard within the last three heartbeat intervals; during an outage and its recovery
   * window, within three intervals before the outage began (nothing can be heard while it lasts).
   */
  get liveNodeCount(): number {
    const cutoff = (this.#outageStart() ?? monotonicNow()) - 3 * this.#heartbeatIntervalMs;
    for (const [serverId, seen] of this.#nodes) if (seen < cutoff) this.#nodes.delete(serverId);
    return this.#nodes.size;
  }

  /** Whether both Redis connections are up. */
  get isHealthy(): boolean {
    return this.#healthy;
  }

  /** Calls `listener` whenever health changes; returns a function that stops it. */
  onHealthChange(listener: (healthy: boolean) => void): () => void {
    this.#healthListeners.add(listener);
    return () => this.#healthListeners.delete(listener);
  }

  /** Channels this node is subscribed to (for tests and diagnostics). */
  get subscribedChannels(): string[] {
    return [...this.#subscriptions.keys()];
  }

  async onConnected(connection: ManagedConnection): Promise<void> {
    await this.#local.onConnected(connection);
    const subscriptions = [this.#subscribe(this.channels.connection(connection.connectionId))];
    if (connection.userId !== undefined) subscriptions.push(this.#subscribe(this.channels.user(connection.userId)));
    // A Redis outage must not stop local clients from connecting: wait a bounded time, then go on.
    await this.#bounded(Promise.all(subscriptions), "subscribing a new connection's channels");
  }

  async onDisconnected(connection: ManagedConnection): Promise<void> {
    const groups = this.#local.groupsOf(connection);
    await this.#local.onDisconnected(connection);
    void this.#unsubscribe(this.channels.connection(connection.connectionId));
    if (connection.userId !== undefined) void this.#unsubscribe(this.channels.user(connection.userId));
    for (const group of groups) void this.#unsubscribe(this.channels.group(group));
  }

  async send(target: SendTarget, message: InvocationMessage): Promise<void> {
    const serialized = new SerializedMessage(message);
    // Local connections first, with no Redis round trip; the same bytes go to Redis.
    const waits: Array<Promise<void>> = [];
    for (const connection of this.#local.resolve(target)) {
      const wait = connection.write(serialized);
      if (wait !== undefined) waits.push(wait);
    }
    const publishes = this.#remotePublishes(target, serialized);
    if (publishes.length > 0) await Promise.all(publishes);
    await Promise.all(waits);
  }

  async addToGroup(connectionId: string, group: string): Promise<void> {
    if (this.#local.get(connectionId) !== undefined) return this.#applyGroupCommand("add", connectionId, group);
    await this.#request(this.channels.groupCommands, (requestId) => ({
      kind: EnvelopeKind.GroupCommand,
      requestId,
      serverId: this.serverId,
      action: "add",
      connectionId,
      group,
    }), connectionId);
  }

  async removeFromGroup(connectionId: string, group: string): Promise<void> {
    if (this.#local.get(connectionId) !== undefined) return this.#applyGroupCommand("remove", connectionId, group);
    await this.#request(this.channels.groupCommands, (requestId) => ({
      kind: EnvelopeKind.GroupCommand,
      requestId,
      serverId: this.serverId,
      action: "remove",
      connectionId,
      group,
    }), connectionId);
  }

  async invokeConnection(connectionId: string, method: string, args: readonly unknown[], options: ClientResultOptions): Promise<unknown> {
    if (this.#local.get(connectionId) !== undefined) return this.#local.invokeConnection(connectionId, method, args, options);
    const resultId = this.#newId();
    const result = this.#expect(resultId, options.timeoutMs, options.signal, method);
    try {
      await this.#request(
        this.channels.connection(connectionId),
        (requestId) => ({
          kind: EnvelopeKind.ResultRequest,
          requestId,
          serverId: this.serverId,
          connectionId,
          method,
          args,
          timeoutMs: options.timeoutMs ?? null,
        }),
        connectionId,
        resultId,
      );
    } catch (error) {
      result.catch(() => undefined);
      this.#pending.get(resultId)?.reject(error as Error);
      throw error;
    }
    return result;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#publishDeadlines.close();
    this.#stopObserving();
    this.#subscriber.off(this.#sharded ? "smessageBuffer" : "messageBuffer", this.#onMessage);
    for (const client of new Set([this.#publisher, this.#subscriber])) {
      for (const event of ["ready", "close", "end", "reconnecting", "connect"]) client.off(event, this.#onStatus);
      client.off("error", this.#onError);
    }
    for (const pending of [...this.#pending.values()]) pending.reject(new BackplaneError("The backplane is closing."));
    const channels = [...this.#subscriptions.keys()];
    this.#subscriptions.clear();
    if (channels.length > 0 && this.#subscriber.status === "ready") {
      // Sharded channels live in different slots: one SUNSUBSCRIBE each.
      const unsubscribed = this.#sharded
        ? Promise.all(channels.map((channel) => this.#subscriber.sunsubscribe(channel)))
        : this.#subscriber.unsubscribe(...channels);
      await this.#bounded(unsubscribed.catch(() => undefined), "unsubscribing");
    }
    await this.#local.close();
  }

  readonly #onError = (error: Error) => {
    this.#logger.log("warn", "Redis reported an error.", { error: error.message });
  };

  #computeHealth(): boolean {
    return this.#probeOk && this.#publisher.status === "ready" && this.#subscriber.status === "ready";
  }

  /** Announces this node and probes Redis with the same publish. */
  async #beat(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#publish(this.channels.all, encodeEnvelope({ kind: EnvelopeKind.Heartbeat, serverId: this.serverId }), { quiet: true });
      this.#probeOk = true;
    } catch {
      this.#probeOk = false;
    }
    this.#updateHealth();
  }

  #updateHealth(): void {
    const healthy = this.#computeHealth();
    if (healthy === this.#healthy) return;
    this.#healthy = healthy;
    this.#logger.log(healthy ? "info" : "warn", healthy ? "The Redis backplane is back." : "The Redis backplane is unavailable.", {
      serverId: this.serverId,
    });
    for (const listener of this.#healthListeners) listener(healthy);
  }

  /** When the current outage began, or undefined outside an outage and its recovery window. */
  #outageStart(): number | undefined {
    if (this.#outageSince !== undefined && this.#wasReady && monotonicNow() >= this.#recoveringUntil) this.#outageSince = undefined;
    return this.#outageSince;
  }

  #newId(): string {
    return `${this.serverId}:${(this.#counter++).toString(36)}`;
  }

  /** One publish per channel the target needs, all with the same message id. */
  #remotePublishes(target: SendTarget, serialized: SerializedMessage): Array<Promise<void>> {
    const envelopeFor = (kind: TargetKind, names: readonly string[], excluded: readonly string[] = []) =>
      encodeEnvelope({
        kind: EnvelopeKind.Invocation,
        messageId: this.#newId(),
        serverId: this.serverId,
        target: kind,
        names,
        excluded,
        encoded: new Map(this.#protocols.map((protocol) => [protocol.name, serialized.bytesFor(protocol)])),
      });
    switch (target.kind) {
      case "all": {
        return [this.#publish(this.channels.all, envelopeFor("all", [], target.excludedConnectionIds), { toAll: true })];
      }
      case "connections": {
        const remote = [...new Set(target.connectionIds)].filter((id) => this.#local.get(id) === undefined);
        if (remote.length === 0) return [];
        const envelope = envelopeFor("connections", remote);
        return remote.map((id) => this.#publish(this.channels.connection(id), envelope));
      }
      case "groups": {
        const groups = [...new Set(target.groups)];
        const envelope = envelopeFor("groups", groups, target.excludedConnectionIds);
        return groups.map((group) => this.#publish(this.channels.group(group), envelope));
      }
      case "users": {
        const users = [...new Set(target.userIds)];
        const envelope = envelopeFor("users", users);
        return users.map((user) => this.#publish(this.channels.user(user), envelope));
      }
    }
  }

  /**
   * Publishes, failing loudly when Redis cannot take it. `toAll`: every node, this one included,
   * subscribes to `all`; around an outage, fewer receivers than nodes known alive means one has not
   * re-subscribed yet and missed it. Checked if the outage was on when the publish was sent or when
   * it was answered (ioredis resends a publish that was in flight when the connection dropped).
   */
  async #publish(channel: string, payload: Uint8Array, options: { toAll?: boolean; quiet?: boolean } = {}): Promise<void> {
    const fail = (error: BackplaneError): never => {
      if (options.quiet !== true) {
        this.stats.publishFailures++;
        this.#logger.log("warn", "A backplane send failed.", { channel, error: error.message });
      }
      throw error;
    };
    if (this.#publisher.status !== "ready") {
      fail(new BackplaneError("The Redis backplane is unavailable: the message reached this node's connections only."));
    }
    const checkAtSend = options.toAll === true && this.#outageStart() !== undefined;
    const buffer = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    let receivers: number | undefined;
    try {
      const published = (this.#sharded ? this.#publisher.spublish(channel, buffer) : this.#publisher.publish(channel, buffer)) as Promise<number>;
      receivers = await this.#publishDeadlines.bound(
        published,
        () => new BackplaneError(`Redis did not answer publishing within ${this.#publishTimeoutMs} ms.`),
      );
    } catch (error) {
      fail(error instanceof BackplaneError ? error : new BackplaneError(`Publishing to Redis failed: ${(error as Error).message}`));
    }
    if (options.toAll === true && (checkAtSend || this.#outageStart() !== undefined)) {
      const expected = 1 + this.liveNodeCount;
      if ((receivers ?? 0) < expected) fail(new BackplaneError(`The message reached ${receivers ?? 0} of ${expected} expected node(s) through Redis.`));
    }
    if (options.quiet !== true) this.stats.published++;
  }

  /** Waits for `work` at most `publishTimeoutMs`; then rejects (when `strict`) or logs and goes on. */
  async #bounded<T>(work: Promise<T>, what: string, strict = false): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), this.#publishTimeoutMs)));
    try {
      const outcome = await Promise.race([work, timeout]);
      if (outcome === "timeout") {
        work.catch(() => undefined);
        if (strict) throw new BackplaneError(`Redis did not answer ${what} within ${this.#publishTimeoutMs} ms.`);
        this.#logger.log("warn", `Redis did not answer ${what} in time; going on.`, {});
        return undefined;
      }
      return outcome;
    } finally {
      clearTimeout(timer);
    }
  }

  async #subscribe(channel: string): Promise<void> {
    const holders = this.#subscriptions.get(channel) ?? 0;
    this.#subscriptions.set(channel, holders + 1);
    if (holders > 0) return;
    try {
      await (this.#sharded ? this.#subscriber.ssubscribe(channel) : this.#subscriber.subscribe(channel));
    } catch (error) {
      this.#logger.log("warn", "Subscribing failed.", { channel, error: (error as Error).message });
    }
  }

  async #resubscribeAll(): Promise<void> {
    const channels = [...this.#subscriptions.keys()];
    if (channels.length === 0 || this.#closed) return;
    try {
      await (this.#sharded
        ? Promise.all(channels.map((channel) => this.#subscriber.ssubscribe(channel)))
        : this.#subscriber.subscribe(...channels));
    } catch (error) {
      this.#logger.log("warn", "Re-subscribing after a reconnect failed.", { error: (error as Error).message });
    }
  }

  async #unsubscribe(channel: string): Promise<void> {
    const holders = this.#subscriptions.get(channel) ?? 0;
    if (holders > 1) {
      this.#subscriptions.set(channel, holders - 1);
      return;
    }
    this.#subscriptions.delete(channel);
    if (holders === 0 || this.#closed) return;
    try {
      await (this.#sharded ? this.#subscriber.sunsubscribe(channel) : this.#subscriber.unsubscribe(channel));
    } catch (error) {
      this.#logger.log("debug", "Unsubscribing failed.", { channel, error: (error as Error).message });
    }
  }

  async #applyGroupCommand(action: "add" | "remove", connectionId: string, group: string): Promise<void> {
    if (action === "add") {
      const before = this.#local.memberCount(group);
      await this.#local.addToGroup(connectionId, group);
      if (before === 0 && this.#local.memberCount(group) === 1) await this.#bounded(this.#subscribe(this.channels.group(group)), "subscribing a group");
    } else {
      const before = this.#local.memberCount(group);
      await this.#local.removeFromGroup(connectionId, group);
      if (before > 0 && this.#local.memberCount(group) === before - 1) void this.#unsubscribe(this.channels.group(group));
    }
  }

  /** Publishes a request and waits for the node holding `connectionId` to acknowledge it. */
  async #request(channel: string, build: (requestId: string) => Envelope, connectionId: string, resultId?: string): Promise<void> {
    const requestId = resultId === undefined ? this.#newId() : `${resultId}:ack`;
    const acknowledged = this.#expect(requestId, this.#ackTimeoutMs, undefined, undefined, () => new UnknownConnectionError(connectionId));
    try {
      await this.#publish(channel, encodeEnvelope(build(requestId)));
    } catch (error) {
      this.#pending.get(requestId)?.reject(error as Error);
      await acknowledged.catch(() => undefined);
      throw error;
    }
    await acknowledged;
  }

  /** A promise settled by an Ack or a ResultResponse with this id, or by the timeout or signal. */
  #expect(id: string, timeoutMs: number | undefined, signal: AbortSignal | undefined, method?: string, onTimeout?: () => Error): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        this.#pending.delete(id);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        done();
        reject(new ClientResultError(`The client result for '${method ?? "?"}' was cancelled.`));
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          done();
          reject(onTimeout?.() ?? new ClientResultError(`The client did not answer '${method ?? "?"}' within ${timeoutMs} ms.`));
        }, timeoutMs);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(id, {
        resolve: (value) => (done(), resolve(value)),
        reject: (error) => (done(), reject(error)),
      });
    });
  }

  #receive(bytes: Buffer): void {
    const envelope = decodeEnvelope(bytes);
    if (envelope === undefined) {
      this.stats.malformedDropped++;
      this.#logger.log("warn", "Dropped a backplane message that is not an envelope.", {});
      return;
    }
    this.stats.received++;
    switch (envelope.kind) {
      case EnvelopeKind.Heartbeat:
        if (envelope.serverId !== this.serverId) this.#nodes.set(envelope.serverId, monotonicNow());
        return;
      case EnvelopeKind.Invocation:
        return this.#deliver(envelope);
      case EnvelopeKind.GroupCommand:
        if (envelope.serverId === this.serverId || this.#local.get(envelope.connectionId) === undefined) return;
        void this.#applyGroupCommand(envelope.action, envelope.connectionId, envelope.group).then(() =>
          this.#reply(envelope.serverId, { kind: EnvelopeKind.Ack, requestId: envelope.requestId }),
        );
        return;
      case EnvelopeKind.Ack:
        this.#pending.get(envelope.requestId)?.resolve(undefined);
        return;
      case EnvelopeKind.ResultRequest:
        return this.#answerResult(envelope);
      case EnvelopeKind.ResultResponse: {
        const pending = this.#pending.get(envelope.requestId);
        if (envelope.error === null) pending?.resolve(envelope.result);
        else pending?.reject(new ClientResultError(envelope.error));
        return;
      }
    }
  }

  #deliver(envelope: Extract<Envelope, { kind: typeof EnvelopeKind.Invocation }>): void {
    // Already delivered locally by its sender; or seen before (a resend, or a second channel).
    if (envelope.serverId === this.serverId) return;
    if (this.#seen.has(envelope.messageId)) {
      this.stats.duplicatesDropped++;
      return;
    }
    this.#seen.add(envelope.messageId);
    if (this.#seen.size > SEEN_LIMIT) this.#seen.delete(this.#seen.values().next().value!);
    const serialized = SerializedMessage.fromEncoded(MessageType.Invocation, envelope.encoded);
    const target: SendTarget =
      envelope.target === "all"
        ? { kind: "all", excludedConnectionIds: envelope.excluded }
        : envelope.target === "connections"
          ? { kind: "connections", connectionIds: envelope.names }
          : envelope.target === "groups"
            ? { kind: "groups", groups: envelope.names, excludedConnectionIds: envelope.excluded }
            : { kind: "users", userIds: envelope.names };
    for (const connection of this.#local.resolve(target)) {
      try {
        void connection.write(serialized);
      } catch (error) {
        this.#logger.log("warn", "A backplane message could not be written to a connection.", { error: (error as Error).message });
      }
    }
  }

  #answerResult(envelope: Extract<Envelope, { kind: typeof EnvelopeKind.ResultRequest }>): void {
    const connection = this.#local.get(envelope.connectionId);
    if (connection === undefined) return;
    const resultId = envelope.requestId.endsWith(":ack") ? envelope.requestId.slice(0, -4) : envelope.requestId;
    void this.#reply(envelope.serverId, { kind: EnvelopeKind.Ack, requestId: envelope.requestId });
    connection
      .invokeClient(envelope.method, envelope.args, envelope.timeoutMs === null ? {} : { timeoutMs: envelope.timeoutMs })
      .then(
        (result) => this.#reply(envelope.serverId, { kind: EnvelopeKind.ResultResponse, requestId: resultId, error: null, result: result ?? null }),
        (error: Error) => this.#reply(envelope.serverId, { kind: EnvelopeKind.ResultResponse, requestId: resultId, error: error.message, result: null }),
      );
  }

  async #reply(serverId: string, envelope: Envelope): Promise<void> {
    try {
      await this.#publish(this.channels.server(serverId), encodeEnvelope(envelope));
    } catch {
      // Counted and logged by #publish; the requester times out.
    }
  }
}

/** Options for a backplane whose Redis connections Hubwire creates (and closes) itself. */
export interface RedisConnectionOptions extends Omit<RedisBackplaneOptions, "publisher" | "subscriber"> {
  /** A `redis://` URL, or ioredis options. */
  readonly redis: string | RedisOptions;
}

/**
 * The `lifetimeManager` option of `createHubServer` for a Redis backplane: one manager per hub,
 * sharing the caller's clients (or, given `redis`, two connections it opens and closes itself).
 *
 * @example
 * ```ts
 * const hubs = createHubServer({
 *   hubs: { "/chat": chat },
 *   lifetimeManager: redisLifetimeManager({ publisher, subscriber, prefix: "myapp" }),
 * });
 * ```
 */
export function redisLifetimeManager(options: RedisBackplaneOptions | RedisConnectionOptions): (hubName: string) => RedisLifetimeManager {
  if (!("redis" in options)) return (hubName) => new RedisLifetimeManager({ ...options, hubName });
  const { redis, ...rest } = options;
  const open = () => (typeof redis === "string" ? new Redis(redis) : new Redis(redis));
  return (hubName) => {
    const publisher = open();
    const subscriber = open();
    const manager = new RedisLifetimeManager({ ...rest, hubName, publisher, subscriber });
    const close = manager.close.bind(manager);
    manager.close = async () => {
      await close();
      publisher.disconnect();
      subscriber.disconnect();
    };
    return manager;
  };
}
