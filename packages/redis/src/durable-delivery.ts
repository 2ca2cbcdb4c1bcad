/**
 * Durable delivery (`delivery: "durable"`): a hub's cross-node sends go through Redis Streams
 * instead of pub/sub. Each send is one entry on this node's shard stream (stream-appender.ts);
 * every node reads every shard from the last entry it read, each on a blocking connection of its
 * own (stream-reader.ts), and hands each envelope to the router, which delivers an id once. A
 * node that loses Redis for a while, or whose connection is dropped, reads on from where it
 * stopped; where that is impossible, the loss is reported (delivery-loss.ts).
 *
 * Only invocations (sends to all, connections, groups, users) go through the streams. Requests
 * that are answered (group changes, client results, disconnects, inspection, forwarding) and
 * heartbeats and presence stay on pub/sub: their senders already wait for an answer and fail
 * loudly without one.
 *
 * @module
 */
import type { Logger, ManagedConnection } from "@hubwire/server";
import type { Cluster, Redis } from "ioredis";
import type { BackplaneStats } from "./backplane-metrics.js";
import type { RedisClient } from "./backplane-options.js";
import { closeForResync } from "./close-for-resync.js";
import type { DeadlineQueue } from "./deadline-queue.js";
import type { DeliveryLoss } from "./delivery-loss.js";
import type { RedisConnections } from "./redis-connections.js";
import { StreamAppender } from "./stream-appender.js";
import type { StreamKeys } from "./stream-keys.js";
import { type LossFinding, StreamReader } from "./stream-reader.js";

/** Entries read per XREAD at most: a node catching up reads in batches of this many. */
const batchSize = 512;

/** The name reader connections give themselves (`CLIENT LIST`), distinct from the publisher's and subscriber's. */
export const readerConnectionName = "hubwire-stream-reader";

export interface DurableDeliveryOptions {
  readonly connections: RedisConnections;
  readonly keys: StreamKeys;
  readonly hubName: string;
  readonly serverId: string;
  readonly maxLength: number;
  readonly deadlines: DeadlineQueue;
  readonly publishTimeoutMs: number;
  /** How long an XREAD blocks, and how often the epoch and position are checked. */
  readonly heartbeatIntervalMs: number;
  /** Counts published, failures, malformed entries and losses. */
  readonly stats: BackplaneStats;
  readonly logger: Logger;
  /** An envelope read from a stream (the router delivers it, once per id). */
  deliver(envelope: Uint8Array): void;
  /** Closes this node's connections of the hub with `allowReconnect`; returns how many. */
  closeConnections(): number;
}

/**
 * @example
 * ```ts
 * const durable = new DurableDelivery({ connections, keys: new StreamKeys(channels.base, 1), hubName, serverId, maxLength: 100_000, deadlines,
 *   publishTimeoutMs: 2_000, heartbeatIntervalMs: 2_000, stats, logger, deliver: (envelope) => router.routeInvocation(envelope), closeConnections });
 * durable.onLoss((loss) => console.error(loss));
 * await durable.append(messageId, envelope);
 * await durable.close();
 * ```
 */
export class DurableDelivery {
  readonly #options: DurableDeliveryOptions;
  readonly #appender: StreamAppender;
  readonly #readers: StreamReader[] = [];
  readonly #listeners = new Set<(loss: DeliveryLoss) => void>();
  /**
   * Connections registered before the readers had a position (Redis unreachable as the node
   * started): what was stored for them meanwhile cannot be known, so they are told to come back
   * once the readers have one.
   */
  readonly #arrivedUnread = new Set<ManagedConnection>();
  /** The entry being delivered now (its shard and id; id undefined between entries), for a kept connection's store (kept-connections.ts). */
  #currentShard = 0;
  #currentId: string | undefined;
  #closed = false;

  constructor(options: DurableDeliveryOptions) {
    this.#options = options;
    const { keys, serverId, connections } = options;
    this.#appender = new StreamAppender({
      connections,
      stream: keys.stream(keys.shardOf(serverId)),
      serverId,
      maxLength: options.maxLength,
      deadlines: options.deadlines,
      publishTimeoutMs: options.publishTimeoutMs,
      stats: options.stats,
      logger: options.logger,
    });
    for (let shard = 0; shard < keys.shards; shard++) {
      const client = readerClient(connections.publisher);
      client.on("error", (error: Error) => options.logger.log("debug", "A stream reader connection reported an error.", { error: error.message }));
      const reader = new StreamReader({
        client,
        stream: keys.stream(shard),
        epochKey: keys.epoch(shard),
        serverId,
        blockMs: options.heartbeatIntervalMs,
        batchSize,
        validateIntervalMs: options.heartbeatIntervalMs,
        logger: options.logger,
        deliver: (envelope, id) => this.deliverEntry(shard, id, () => options.deliver(envelope)),
        malformed: (id) => {
          options.stats.malformedDropped++;
          options.logger.log("warn", "Dropped a stream entry that is not one of the backplane's.", { stream: keys.stream(shard), id });
        },
        lossFound: (finding) => this.#lossFound(finding),
      });
      this.#readers.push(reader);
      reader.start();
    }
    void this.positioned.then(() => this.#resyncArrivedUnread());
  }

  /** A connection registered before the readers had a position: it is told to come back once they have one. */
  arrivedUnread(connection: ManagedConnection): void {
    if (!this.isPositioned) this.#arrivedUnread.add(connection);
  }

  /** A connection ended: nothing to tell it any more. */
  left(connection: ManagedConnection): void {
    this.#arrivedUnread.delete(connection);
  }

  /** Whether every reader has taken its first position: a connection registered from now on misses nothing stored after it. */
  get isPositioned(): boolean {
    return this.#readers.every((reader) => reader.isPositioned);
  }

  /** Resolves once every reader has taken its first position (at its first look at Redis). */
  get positioned(): Promise<void> {
    return Promise.all(this.#readers.map((reader) => reader.positioned)).then(() => undefined);
  }

  /** Where each shard's reader stands (diagnostics, tests). */
  get positions(): string[] {
    return this.#readers.map((reader) => reader.position);
  }

  /** The number of this node's newest send: its entries up to it were delivered here as they were sent. */
  get lastAppendedSeq(): number {
    return this.#appender.lastSeq;
  }

  /** The stream entry being delivered at this moment, if any. */
  get currentEntry(): { readonly shard: number; readonly id: string } | undefined {
    return this.#currentId === undefined ? undefined : { shard: this.#currentShard, id: this.#currentId };
  }

  /** Runs `deliver`, the delivery of entry `id` of `shard` (read, or caught up: kept-catch-up.ts), as the current entry. */
  deliverEntry(shard: number, id: string, deliver: () => void): void {
    this.#currentShard = shard;
    this.#currentId = id;
    try {
      deliver();
    } finally {
      this.#currentId = undefined;
    }
  }

  /** Each shard's stream. */
  get streams(): string[] {
    const { keys } = this.#options;
    return Array.from({ length: keys.shards }, (_, shard) => keys.stream(shard));
  }

  /** Pauses every reader between two reads (kept-catch-up.ts): where each stopped, and how to let them all go on. */
  async pause(): Promise<{ readonly positions: string[]; resume(): void }> {
    const paused = await Promise.all(this.#readers.map((reader) => reader.pause()));
    return {
      positions: paused.map((reader) => reader.position),
      resume: () => {
        for (const reader of paused) reader.resume();
      },
    };
  }

  /** Stores one message for every node; rejects with a BackplaneError whose `retry()` stores it again, same id. */
  append(messageId: string, envelope: Uint8Array): Promise<void> {
    return this.#appender.append(messageId, envelope);
  }

  /** Calls `listener` with each loss found; returns a function that stops it. */
  onLoss(listener: (loss: DeliveryLoss) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops reading and disconnects the reader connections (opened here). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#arrivedUnread.clear();
    this.#listeners.clear();
    await Promise.all(this.#readers.map((reader) => reader.close()));
  }

  #resyncArrivedUnread(): void {
    if (this.#arrivedUnread.size === 0 || this.#closed) return;
    const { hubName, logger } = this.#options;
    logger.log(
      "warn",
      "Connections that arrived before the durable backplane could read its streams are told to reconnect: what was sent to them meanwhile cannot be known.",
      {
        hubName,
        connections: this.#arrivedUnread.size,
      },
    );
    closeForResync(this.#arrivedUnread, hubName, logger);
    this.#arrivedUnread.clear();
  }

  #lossFound(finding: LossFinding): void {
    const { stats, logger, hubName, serverId } = this.#options;
    const closedConnections = finding.isNewIncident ? this.#options.closeConnections() : 0;
    if (finding.lost !== undefined) stats.messagesLost += finding.lost;
    if (finding.isNewIncident) stats.lossIncidents++;
    const loss: DeliveryLoss = {
      hubName,
      nodeId: serverId,
      reason: finding.reason,
      stream: finding.stream,
      lost: finding.lost,
      senderId: finding.senderId,
      lastId: finding.lastId,
      closedConnections,
    };
    logger.log("error", lossMessages[finding.reason], { ...loss });
    for (const listener of this.#listeners) {
      try {
        listener(loss);
      } catch (error) {
        logger.log("error", "An onDeliveryLoss listener threw.", { hubName, error: (error as Error).message });
      }
    }
  }
}

const lossMessages: Record<LossFinding["reason"], string> = {
  "stream-reset": "Redis lost the durable backplane's stream (restarted without persistence, flushed or failed over): messages not yet read are gone.",
  trimmed: "The durable backplane's stream was trimmed past this node's position: messages it had not read are gone.",
  gap: "Messages of another node were stored and never read by this one.",
};

/** A connection of its own for a blocking reader: never resends a read in flight (the reader checks its position first), waits for Redis rather than failing. */
function readerClient(publisher: RedisClient): RedisClient {
  const overrides = {
    connectionName: readerConnectionName,
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    // Replies in RESP2 shapes whatever the caller chose (XREAD's reply is a map in RESP3).
    protocol: 2 as const,
    lazyConnect: false,
  };
  if (publisher.isCluster) return (publisher as Cluster).duplicate(undefined, { redisOptions: overrides });
  return (publisher as Redis).duplicate(overrides);
}
