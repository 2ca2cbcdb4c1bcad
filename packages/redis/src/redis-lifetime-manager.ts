/**
 * The Redis backplane: a lifetime manager that makes hub servers in several processes act as one
 * hub. Local connections are served directly (no round trip through Redis); everything else goes
 * through pub/sub channels per hub, connection, group and user.
 *
 * The path of one send, by file: `redis-lifetime-manager.ts` writes to local connections, then
 * `send-fanout.ts` picks the `channels.ts` and builds one `envelope.ts`, `backplane-publisher.ts`
 * publishes it within a deadline (`deadline-queue.ts`) through `redis-connections.ts`; on every
 * other node `backplane-router.ts` reads it, drops repeats, and `local-delivery.ts` writes it to
 * that node's connections. Group changes and client results for remote connections go through
 * `remote-requests.ts`, awaited in `pending-requests.ts`.
 *
 * Failure behaviour, by design:
 * - A send reaches local connections first. If Redis cannot take it (not connected, or no answer
 *   within `publishTimeoutMs`), the send rejects with `BackplaneError`, is logged and counted:
 *   it is never queued to be delivered at some unknown later time, so memory stays bounded while
 *   Redis is away, and never lost silently.
 * - Nodes announce themselves on the hub's `all` channel every `heartbeatIntervalMs`. From the
 *   moment either of this node's Redis connections drops until three intervals after both are
 *   back, a send to all that Redis hands to fewer subscribers than the nodes alive when the outage
 *   began (one that has not re-subscribed yet) rejects too (`node-liveness.ts`). Group, user and
 *   connection sends cannot tell an empty group from a node that missed them: in those seconds
 *   they can be missed without an error (see docs/scaling.md).
 * - Every message carries an id; a node delivers an id once, so a publish that ioredis resends
 *   after a reconnect, or a message that reaches a node through two channels, is not duplicated.
 * - Subscriptions are restored by ioredis when Redis comes back (and asked for again here,
 *   `channel-subscriptions.ts`); health is observable (`backplane-health.ts`).
 * - With `delivery: "durable"`, sends go through Redis Streams instead (`durable-delivery.ts`):
 *   a node reads on from where it stopped after any outage, a failed send can be retried with its
 *   id, and a loss that cannot be caught up is reported (`onDeliveryLoss`) and closes the node's
 *   connections with `allowReconnect`. Group and user channels are then not subscribed.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { InvocationMessage } from "@hubwire/protocol";
import {
  type ClientResultOptions,
  type ConnectionRouting,
  type GatheredAnswers,
  type HubLifetimeManager,
  type HubPresence,
  type InspectionRequest,
  type LocalMembership,
  type Logger,
  type ManagedConnection,
  MemoryLifetimeManager,
  type NodeInspector,
  PresenceMap,
  type SendTarget,
  SerializedMessage,
  silentLogger,
} from "@hubwire/server";
import { trace } from "@opentelemetry/api";
import { BackplaneError } from "./backplane-error.js";
import { BackplaneHealth } from "./backplane-health.js";
import { type BackplaneStats, emptyBackplaneStats, observeBackplane } from "./backplane-metrics.js";
import { backplaneDefaults, type RedisBackplaneOptions, type RedisConnectionOptions, type RedisLifetimeManagerOptions } from "./backplane-options.js";
import { BackplanePublisher } from "./backplane-publisher.js";
import { BackplaneRouter } from "./backplane-router.js";
import { ChannelSubscriptions } from "./channel-subscriptions.js";
import { HubChannels } from "./channels.js";
import { closeForResync } from "./close-for-resync.js";
import { ConnectionForwarding } from "./connection-forwarding.js";
import { ConnectionRelays } from "./connection-relays.js";
import { DeadlineQueue } from "./deadline-queue.js";
import type { DeliveryLoss } from "./delivery-loss.js";
import { DurableDelivery } from "./durable-delivery.js";
import { EnvelopeKind, encodeEnvelope } from "./envelope.js";
import { catchUp, StandIn } from "./kept-catch-up.js";
import { KeptConnections, type Resumption } from "./kept-connections.js";
import { deliverLocally } from "./local-delivery.js";
import { NodeLiveness } from "./node-liveness.js";
import { PendingRequests } from "./pending-requests.js";
import { PresenceReplication } from "./presence-replication.js";
import { RedisConnections } from "./redis-connections.js";
import { RemoteInspection } from "./remote-inspection.js";
import { type GroupAction, RemoteRequests } from "./remote-requests.js";
import { SendFanout } from "./send-fanout.js";
import { StreamKeys } from "./stream-keys.js";

/**
 * The lifetime manager for one hub on one node. Create it through {@link redisLifetimeManager}.
 * It closes the Redis connections it opened (given `redis`), never the caller's clients.
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
  readonly stats: BackplaneStats = emptyBackplaneStats();
  readonly channels: HubChannels;
  readonly #local = new MemoryLifetimeManager({ tracksPresence: false });
  readonly #connections: RedisConnections;
  readonly #publishTimeoutMs: number;
  readonly #deadlines: DeadlineQueue;
  readonly #logger: Logger;
  readonly #liveness: NodeLiveness;
  readonly #subscriptions: ChannelSubscriptions;
  readonly #publisher: BackplanePublisher;
  readonly #health: BackplaneHealth;
  readonly #requests = new PendingRequests();
  readonly #remote: RemoteRequests;
  readonly #fanout: SendFanout;
  readonly #inspection: RemoteInspection;
  readonly #presence: PresenceMap;
  readonly #replication: PresenceReplication;
  readonly #forwarding: ConnectionForwarding;
  /** This node's connections by the protocol they speak (a name the backplane encodes for). */
  readonly #localProtocols = new Map<string, number>();
  /** What each other node said its connections speak, in its last heartbeat. */
  readonly #nodeProtocols = new Map<string, readonly string[]>();
  readonly #stopObserving: () => void;
  readonly #stopReceiving: () => void;
  readonly #stopWatching: () => void;
  /** Durable delivery's streams; undefined with pub/sub delivery. */
  readonly #durable: DurableDelivery | undefined;
  /** Stateful connections kept in Redis for another node to take over (`keepConnections`). */
  readonly #kept: KeptConnections | undefined;
  /** Connections taken over from a node that died, by the stand-in registered for each (kept-catch-up.ts). */
  readonly #standIns = new Map<ManagedConnection, StandIn>();

  #counter = 0;
  #closed = false;

  /**
   * `shared`: connections another hub of this server already uses (`redisLifetimeManager` passes
   * them); without it, the caller's clients are shared with every other hub given the same ones,
   * and `redis` opens a pair for this hub alone.
   */
  constructor(options: RedisLifetimeManagerOptions, shared?: RedisConnections) {
    this.channels = new HubChannels(options.prefix ?? backplaneDefaults.prefix, options.hubName);
    // A caller's mistake is thrown before anything is opened or retained.
    const delivery = options.delivery ?? backplaneDefaults.delivery;
    if (delivery !== "pubsub" && delivery !== "durable") throw new TypeError(`delivery must be "pubsub" or "durable"; got '${String(delivery)}'.`);
    const streamMaxLength = options.streamMaxLength ?? backplaneDefaults.streamMaxLength;
    if (!Number.isInteger(streamMaxLength) || streamMaxLength < 1) throw new TypeError(`streamMaxLength must be a positive integer; got ${streamMaxLength}.`);
    if (options.keepConnections === true && delivery !== "durable")
      throw new TypeError('keepConnections needs delivery: "durable" (a connection is caught up from the streams).');
    const streamKeys = delivery === "durable" ? new StreamKeys(this.channels.base, options.streamShards ?? backplaneDefaults.streamShards) : undefined;
    const connections = shared ?? RedisConnections.acquire(options);
    if (connections.serves(this.channels.base)) {
      throw new TypeError(`Two hubs named '${this.channels.base}' share one Redis backplane; give them different names or prefixes.`);
    }
    this.#connections = connections.retain();
    this.#publishTimeoutMs = options.publishTimeoutMs ?? backplaneDefaults.publishTimeoutMs;
    this.#deadlines = new DeadlineQueue(this.#publishTimeoutMs);
    this.#logger = options.logger ?? silentLogger;
    const heartbeatIntervalMs = options.heartbeatIntervalMs ?? backplaneDefaults.heartbeatIntervalMs;
    const newId = () => `${this.serverId}:${(this.#counter++).toString(36)}`;
    this.#liveness = new NodeLiveness(heartbeatIntervalMs, this.#connections.isReady);
    this.#subscriptions = new ChannelSubscriptions(this.#connections, this.#logger);
    this.#publisher = new BackplanePublisher({
      connections: this.#connections,
      deadlines: this.#deadlines,
      publishTimeoutMs: this.#publishTimeoutMs,
      liveness: this.#liveness,
      stats: this.stats,
      logger: this.#logger,
      tracer: (options.tracerProvider ?? trace.getTracerProvider()).getTracer("@hubwire/redis"),
    });
    this.#fanout = new SendFanout({
      channels: this.channels,
      serverId: this.serverId,
      newId,
      isLocal: (id) => this.#local.get(id) !== undefined,
      remoteProtocols: () => this.#remoteProtocols(),
    });
    this.#remote = new RemoteRequests({
      serverId: this.serverId,
      channels: this.channels,
      publisher: this.#publisher,
      requests: this.#requests,
      ackTimeoutMs: options.ackTimeoutMs ?? backplaneDefaults.ackTimeoutMs,
      newId,
      localConnection: (id) => this.#local.get(id),
      applyGroupAction: (action, connectionId, group) => this.#applyGroupAction(action, connectionId, group),
      disconnectLocal: (connectionId) => this.#inspection.inspector?.disconnect(connectionId) ?? false,
    });
    this.#inspection = new RemoteInspection({
      serverId: this.serverId,
      channels: this.channels,
      publisher: this.#publisher,
      liveNodeIds: () => this.#liveness.liveNodeIds(),
      newId,
      logger: this.#logger,
    });
    this.#stopObserving = observeBackplane(
      {
        hubName: options.hubName,
        isConnected: () => this.#connections.isReady,
        nodeCount: () => 1 + this.liveNodeCount,
        relayCount: () => this.#forwarding.relays.size,
        stats: this.stats,
      },
      options.meterProvider,
    );
    this.#presence = new PresenceMap(this.serverId, this.#logger);
    this.#replication = new PresenceReplication({
      serverId: this.serverId,
      map: this.#presence,
      publishDelta: (delta) => this.#publisher.publish(this.channels.all, encodeEnvelope(delta), { quiet: true }),
      requestSnapshot: (serverId) =>
        this.#publisher.publish(this.channels.server(serverId), encodeEnvelope({ kind: EnvelopeKind.PresenceSyncRequest, serverId: this.serverId }), {
          quiet: true,
        }),
      sendSnapshot: (serverId, snapshot) => this.#publisher.publish(this.channels.server(serverId), encodeEnvelope(snapshot), { quiet: true }),
      liveNodeIds: () => this.#liveness.liveNodeIds(),
      heartbeatIntervalMs,
      logger: this.#logger,
    });
    const startedAt = Date.now();
    // What forwarding and relays share: this node, where the others listen, and who is alive.
    const routing = {
      serverId: this.serverId,
      channels: this.channels,
      publisher: this.#publisher,
      liveNodeIds: () => this.#liveness.liveNodeIds(),
      newId,
      logger: this.#logger,
    };
    this.#kept =
      options.keepConnections === true
        ? new KeptConnections({
            client: this.#connections.publisher,
            base: this.channels.base,
            serverId: this.serverId,
            heartbeatIntervalMs,
            logger: this.#logger,
            currentEntry: () => this.#durable?.currentEntry,
            positions: () => this.#durable?.positions ?? [],
          })
        : undefined;
    const forwardTimeoutMs = options.forwardTimeoutMs ?? backplaneDefaults.forwardTimeoutMs;
    this.#forwarding = new ConnectionForwarding({
      ...routing,
      locateTimeoutMs: this.#publishTimeoutMs,
      // Until it has heard every node, a node just started asks even when it knows of none.
      isNewcomer: () => Date.now() - startedAt < 3 * heartbeatIntervalMs,
      forwardTimeoutMs,
      sweepIntervalMs: heartbeatIntervalMs,
      relays: new ConnectionRelays({ ...routing, stats: this.stats, openTimeoutMs: forwardTimeoutMs }),
      keeping: this.#kept,
    });
    const router = new BackplaneRouter({
      serverId: this.serverId,
      requests: this.#requests,
      stats: this.stats,
      logger: this.#logger,
      onHeartbeat: (serverId, presenceSeq, protocols) => {
        // A node new to this one is answered at once, so that it learns of this node within a round
        // trip rather than a heartbeat interval (it may be asked to locate a connection already).
        if (this.#liveness.heard(serverId)) void this.#health.beat();
        if (protocols === undefined) this.#nodeProtocols.delete(serverId);
        else this.#nodeProtocols.set(serverId, protocols);
        this.#replication.heartbeat(serverId, presenceSeq);
      },
      onPresenceDelta: (envelope) => this.#replication.delta(envelope),
      onPresenceSyncRequest: (envelope) => this.#replication.syncRequested(envelope),
      onPresenceSnapshot: (envelope) => this.#replication.snapshot(envelope),
      onLocateRequest: (envelope) => this.#forwarding.answerLocate(envelope),
      onLocateAnswer: (envelope) => this.#forwarding.receiveLocateAnswer(envelope),
      onForwardRequest: (envelope) => this.#forwarding.runForward(envelope),
      onForwardResponse: (envelope) => this.#forwarding.receiveForwardResponse(envelope),
      onForwardCancel: (envelope) => this.#forwarding.cancelForward(envelope),
      onRelay: (envelope) => this.#forwarding.relays.receive(envelope),
      onInvocation: (envelope) => deliverLocally(this.#local, envelope, this.#logger),
      onGroupCommand: (envelope) => this.#remote.answerGroupCommand(envelope),
      onResultRequest: (envelope) => this.#remote.answerResult(envelope),
      onInspectRequest: (envelope) => this.#inspection.answer(envelope),
      onInspectResponse: (envelope) => this.#inspection.receive(envelope),
      onDisconnectCommand: (envelope) => this.#remote.answerDisconnect(envelope),
    });
    this.#stopReceiving = this.#connections.onMessage(this.channels.base, (message) => router.route(message));
    if (streamKeys !== undefined) {
      this.#durable = new DurableDelivery({
        connections: this.#connections,
        keys: streamKeys,
        hubName: options.hubName,
        serverId: this.serverId,
        maxLength: streamMaxLength,
        deadlines: this.#deadlines,
        publishTimeoutMs: this.#publishTimeoutMs,
        heartbeatIntervalMs,
        stats: this.stats,
        logger: this.#logger,
        deliver: (envelope) => router.routeInvocation(envelope),
        closeConnections: () => closeForResync(this.#local.resolve({ kind: "all" }), options.hubName, this.#logger),
      });
      if (options.onDeliveryLoss !== undefined) this.#durable.onLoss(options.onDeliveryLoss);
    }
    this.#health = new BackplaneHealth({
      serverId: this.serverId,
      isConnected: () => this.#connections.isReady,
      beat: () =>
        this.#publisher.publish(
          this.channels.all,
          encodeEnvelope({
            kind: EnvelopeKind.Heartbeat,
            serverId: this.serverId,
            presenceSeq: this.#replication.seq,
            protocols: [...this.#localProtocols.keys()],
          }),
          { quiet: true },
        ),
      heartbeatIntervalMs,
      logger: this.#logger,
    });
    this.#stopWatching = this.#connections.watch(this.#onStatus, (error) => this.#logger.log("warn", "Redis reported an error.", { error: error.message }));
    for (const channel of [this.channels.all, this.channels.groupCommands, this.channels.server(this.serverId)]) {
      void this.#subscriptions.hold(channel);
    }
    void this.#health.beat();
  }

  /**
   * Other nodes heard within the last three heartbeat intervals; during an outage and its recovery
   * window, within three intervals before the outage began (nothing can be heard while it lasts).
   */
  get liveNodeCount(): number {
    return this.#liveness.liveNodeCount;
  }

  /** Whether both Redis connections are up (and the last heartbeat was answered). */
  get isHealthy(): boolean {
    return this.#health.isHealthy;
  }

  /** Calls `listener` whenever health changes; returns a function that stops it. */
  onHealthChange(listener: (healthy: boolean) => void): () => void {
    return this.#health.onChange(listener);
  }

  /**
   * Durable delivery: calls `listener` with each loss this node finds (also logged, counted in
   * `stats.messagesLost`, and its connections closed with `allowReconnect`); returns a function
   * that stops it. Throws with pub/sub delivery, which cannot find losses.
   *
   * @example
   * ```ts
   * manager.onDeliveryLoss((loss) => logger.error(`lost ${loss.lost ?? "?"} (${loss.reason}) on ${loss.stream}`));
   * ```
   */
  onDeliveryLoss(listener: (loss: DeliveryLoss) => void): () => void {
    if (this.#durable === undefined) throw new TypeError('onDeliveryLoss needs delivery: "durable" in the backplane options.');
    return this.#durable.onLoss(listener);
  }

  /** Durable delivery: the last entry read from each shard's stream (diagnostics, tests); empty with pub/sub. */
  get streamPositions(): string[] {
    return this.#durable?.positions ?? [];
  }

  /** Channels this node is subscribed to (for tests and diagnostics). */
  get subscribedChannels(): string[] {
    return this.#subscriptions.channels;
  }

  async onConnected(connection: ManagedConnection): Promise<void> {
    const resumption = this.#kept?.resuming(connection.connectionId);
    if (resumption !== undefined) return this.#resume(connection, resumption);
    await this.#register(connection);
  }

  /**
   * Makes a connection addressable on this node, in `groups`: in its own map (at once: the
   * in-memory manager's changes take effect before they return a promise), presence, and the
   * channels it hears.
   */
  async #register(connection: ManagedConnection, groups: readonly string[] = []): Promise<void> {
    const registered = [this.#local.onConnected(connection), ...groups.map((group) => this.#local.addToGroup(connection.connectionId, group))];
    this.#countProtocol(connection, 1);
    this.#replication.connected(connection.connectionId, connection.userId ?? null);
    for (const group of groups) this.#replication.joined(connection.connectionId, group);
    await Promise.all(registered);
    const subscriptions = [this.#subscriptions.hold(this.channels.connection(connection.connectionId))];
    // Durable delivery reads every send from the stream: no user channel to hear.
    if (connection.userId !== undefined && this.#durable === undefined) subscriptions.push(this.#subscriptions.hold(this.channels.user(connection.userId)));
    // Durable delivery: the streams' readers must have a position before this connection can count on them.
    const durable = this.#durable;
    const unread = durable !== undefined && !durable.isPositioned;
    // A Redis outage must not stop local clients from connecting: wait a bounded time, then go on.
    await this.#bounded(Promise.all(unread ? [...subscriptions, durable.positioned] : subscriptions), "subscribing a new connection's channels");
    if (unread && !durable.isPositioned) durable.arrivedUnread(connection);
  }

  /**
   * A connection taken over from a node that died: with the stream readers paused, it is caught up
   * on what its holder had not delivered (kept-catch-up.ts), then registered with its groups, so
   * that the readers deliver it what follows. A loss that cannot be caught up closes it with
   * `allowReconnect`, as durable delivery does for every loss.
   */
  async #resume(connection: ManagedConnection, resumption: Resumption): Promise<void> {
    const durable = this.#durable!;
    const standIn = new StandIn(connection, this.#logger);
    this.#standIns.set(connection, standIn);
    const paused = await durable.pause();
    // It ended while the readers paused (its window passed, a store failed): nothing to register.
    if (this.#standIns.get(connection) !== standIn) return paused.resume();
    const caughtUp = this.#kept!.catchingUp();
    try {
      // Registered with its groups at once, and this node's last send read in the same turn.
      const registered = this.#register(standIn, resumption.groups);
      const ownThrough = durable.lastAppendedSeq;
      await registered;
      const result = await catchUp(connection, resumption, {
        client: this.#connections.publisher,
        streams: durable.streams,
        serverId: this.serverId,
        readerPositions: paused.positions,
        ownThrough,
        logger: this.#logger,
        deliverEntry: (shard, id, deliver) => durable.deliverEntry(shard, id, deliver),
      });
      standIn.release();
      if ("lost" in result) {
        this.stats.lossIncidents++;
        this.#logger.log("error", "A connection taken over from a node that died missed messages the streams no longer hold; it is told to reconnect.", {
          connectionId: connection.connectionId,
          holder: resumption.holder,
          reason: result.lost,
        });
        closeForResync([connection], this.channels.base, this.#logger);
      } else {
        this.#logger.log("debug", "Caught up a connection taken over from a node that died.", {
          connectionId: connection.connectionId,
          delivered: result.delivered,
        });
      }
    } finally {
      caughtUp();
      paused.resume();
    }
  }

  async onDisconnected(given: ManagedConnection): Promise<void> {
    // A connection taken over here is registered through its stand-in.
    const connection = this.#standIns.get(given) ?? given;
    this.#standIns.delete(given);
    this.#durable?.left(connection);
    const groups = this.#local.groupsOf(connection);
    await this.#local.onDisconnected(connection);
    this.#countProtocol(connection, -1);
    this.#replication.disconnected(connection.connectionId);
    void this.#subscriptions.release(this.channels.connection(connection.connectionId));
    if (this.#durable !== undefined) return;
    if (connection.userId !== undefined) void this.#subscriptions.release(this.channels.user(connection.userId));
    for (const group of groups) void this.#subscriptions.release(this.channels.group(group));
  }

  async send(target: SendTarget, message: InvocationMessage): Promise<void> {
    const serialized = new SerializedMessage(message);
    // Local connections first, with no Redis round trip; the same bytes go to Redis.
    const waits: Array<Promise<void>> = [];
    for (const connection of this.#local.resolve(target)) {
      const wait = connection.write(serialized);
      if (wait !== undefined) waits.push(wait);
    }
    if (this.#durable !== undefined) {
      const remote = this.#fanout.envelopeFor(target, serialized);
      if (remote !== undefined) await this.#durable.append(remote.messageId, remote.payload);
    } else {
      const publishes = this.#fanout
        .publishesFor(target, serialized)
        .map(({ channel, payload, toAll }) => this.#publisher.publish(channel, payload, { toAll }));
      if (publishes.length > 0) await Promise.all(publishes);
    }
    await Promise.all(waits);
  }

  async addToGroup(connectionId: string, group: string): Promise<void> {
    if (this.#local.get(connectionId) !== undefined) return this.#applyGroupAction("add", connectionId, group);
    await this.#remote.changeGroup("add", connectionId, group);
  }

  async removeFromGroup(connectionId: string, group: string): Promise<void> {
    if (this.#local.get(connectionId) !== undefined) return this.#applyGroupAction("remove", connectionId, group);
    await this.#remote.changeGroup("remove", connectionId, group);
  }

  async invokeConnection(connectionId: string, method: string, args: readonly unknown[], options: ClientResultOptions): Promise<unknown> {
    if (this.#local.get(connectionId) !== undefined) return this.#local.invokeConnection(connectionId, method, args, options);
    return this.#remote.invoke(connectionId, method, args, options);
  }

  /** How any node serves any request of a connection: locating, claiming and forwarding over Redis (connection-forwarding.ts). */
  get routing(): ConnectionRouting {
    return this.#forwarding;
  }

  /** Who is online on every node of the hub, with events: this node's copy, kept by replication (presence-replication.ts). */
  get presence(): HubPresence {
    return this.#presence;
  }

  /** This node's id among the hub's nodes (its server id). */
  get nodeId(): string {
    return this.serverId;
  }

  /** The groups of the connections this node holds. */
  localMembership(): LocalMembership {
    return this.#local.localMembership();
  }

  /** How this node answers the other nodes' inspections and disconnects. */
  serveInspection(inspector: NodeInspector): void {
    this.#inspection.serve(inspector);
  }

  /** Every node's inspection answer within `timeoutMs`; the nodes alive that did not answer in time are named. */
  inspectNodes(request: InspectionRequest, timeoutMs: number): Promise<GatheredAnswers> {
    return this.#inspection.gather(request, timeoutMs);
  }

  /** Ends a connection another node holds; rejects with UnknownConnectionError when no node acknowledges it in time. */
  async disconnectConnection(connectionId: string): Promise<void> {
    if (this.#inspection.inspector?.disconnect(connectionId) === true) return;
    await this.#remote.disconnect(connectionId);
  }

  /** Stops listening, fails what is still awaited, unsubscribes, and disconnects the Redis connections it opened. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#replication.close();
    this.#forwarding.close();
    this.#kept?.close();
    this.#health.close();
    this.#stopObserving();
    this.#stopReceiving();
    this.#stopWatching();
    this.#requests.rejectAll(new BackplaneError("The backplane is closing."));
    await this.#bounded(this.#subscriptions.close(), "unsubscribing");
    await this.#durable?.close();
    this.#deadlines.close();
    await this.#local.close();
    this.#connections.release();
  }

  /**
   * Counts a connection's protocol. A protocol new to this node is announced at once (a heartbeat),
   * so that the others start encoding it; what they sent meanwhile is re-encoded here from what it
   * carries (local-delivery.ts).
   */
  #countProtocol(connection: ManagedConnection, delta: 1 | -1): void {
    const name = connection.protocol?.name;
    // A connection of no known protocol (a gateway's) reads whatever arrives, decoded once.
    if (name !== "json" && name !== "messagepack") return;
    const count = (this.#localProtocols.get(name) ?? 0) + delta;
    if (count > 0) this.#localProtocols.set(name, count);
    else this.#localProtocols.delete(name);
    if (delta === 1 && count === 1) void this.#health.beat();
  }

  /** The protocols the other live nodes' connections speak; undefined when one of them has not said. */
  #remoteProtocols(): ReadonlySet<string> | undefined {
    const live = this.#liveness.liveNodeIds();
    // Nodes no longer alive are forgotten here, so the table holds only those that count.
    if (this.#nodeProtocols.size > live.length) for (const nodeId of this.#nodeProtocols.keys()) if (!live.includes(nodeId)) this.#nodeProtocols.delete(nodeId);
    const needed = new Set<string>();
    for (const nodeId of live) {
      const protocols = this.#nodeProtocols.get(nodeId);
      if (protocols === undefined) return undefined;
      for (const name of protocols) needed.add(name);
    }
    return needed;
  }

  readonly #onStatus = (): void => {
    // Subscriptions asked for while Redis was away may have failed; ask again (it is idempotent).
    if (this.#liveness.observeConnection(this.#connections.isReady)) void this.#subscriptions.restore();
    this.#health.update();
    // Back after an outage: tell the others at once instead of at the next interval.
    if (this.#connections.isReady) void this.#health.beat();
    // Answers to forwards in flight come through the subscriber: without it they cannot arrive.
    else if (!this.#connections.isSubscriberReady) this.#forwarding.connectionLost();
  };

  /** Applies a group change to a connection this node holds, subscribing to the group's channel for its first local member. */
  async #applyGroupAction(action: GroupAction, connectionId: string, group: string): Promise<void> {
    // A kept connection's groups are stored before the change is done (a node that takes it over restores them).
    if (this.#kept !== undefined) await this.#kept.group(connectionId, action, group);
    const before = this.#local.memberCount(group);
    if (action === "add") {
      await this.#local.addToGroup(connectionId, group);
      this.#replication.joined(connectionId, group);
      if (this.#durable !== undefined) return;
      if (before === 0 && this.#local.memberCount(group) === 1)
        await this.#bounded(this.#subscriptions.hold(this.channels.group(group)), "subscribing a group");
    } else {
      await this.#local.removeFromGroup(connectionId, group);
      this.#replication.left(connectionId, group);
      if (this.#durable !== undefined) return;
      if (before > 0 && this.#local.memberCount(group) === before - 1) void this.#subscriptions.release(this.channels.group(group));
    }
  }

  /** Waits for `work` at most `publishTimeoutMs`; then logs and goes on. */
  async #bounded(work: Promise<unknown>, what: string): Promise<void> {
    const late = new BackplaneError(`Redis did not answer ${what} within ${this.#publishTimeoutMs} ms.`);
    try {
      await this.#deadlines.bound(work, () => late);
    } catch (error) {
      if (error !== late) throw error;
      this.#logger.log("warn", `Redis did not answer ${what} in time; going on.`, {});
    }
  }
}

/**
 * The `lifetimeManager` option of `createHubServer` for a Redis backplane: one manager per hub,
 * and one pair of Redis connections for all of them: the caller's clients, or, given `redis`, two
 * connections opened with the first hub and closed with the last. Each message goes only to the
 * hub whose channel it came on.
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
  // One pair of connections for every hub of the server: opened from `redis` for the first hub, disconnected with the last.
  let shared: RedisConnections | undefined;
  return (hubName) => {
    if (shared === undefined || shared.isDisconnected) shared = RedisConnections.acquire(options);
    return new RedisLifetimeManager({ ...options, hubName }, shared);
  };
}
