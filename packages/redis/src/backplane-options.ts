/**
 * What a Redis backplane is configured with: the caller's two Redis clients, or where to open
 * them; the channel prefix; and the timeouts, whose defaults stand in one table.
 *
 * @module
 * @example
 * ```ts
 * const options: RedisBackplaneOptions = { publisher: new Redis(url), subscriber: new Redis(url), prefix: "myapp" };
 * ```
 */
import type { Logger } from "@hubwire/server";
import type { MeterProvider, TracerProvider } from "@opentelemetry/api";
import type { Cluster, Redis, RedisOptions } from "ioredis";
import type { DeliveryLoss } from "./delivery-loss.js";

/** An ioredis client or cluster. */
export type RedisClient = Redis | Cluster;

/** Options of `redisLifetimeManager` with the caller's own Redis clients. */
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
  /**
   * How long a request forwarded to the node holding its connection may take (a long poll there
   * waits for messages up to the hub's \`longPollTimeoutMs\`). Default 130 s.
   */
  readonly forwardTimeoutMs?: number;
  /**
   * How cross-node sends travel. Default `"pubsub"`.
   *
   * - `"pubsub"`: PUBLISH to a channel per target; at most once, lowest cost. A send fails loudly
   *   when Redis is down or late, but a node that is re-subscribing misses what is sent meanwhile
   *   (docs/scaling.md says when).
   * - `"durable"`: XADD to a Redis Stream per hub (per shard, `streamShards`), read by every node
   *   with `XREAD BLOCK` from the last entry it read, on a connection of its own. A node that loses
   *   Redis for a while, or has its connection dropped, reads on from where it stopped: nothing
   *   missed, nothing twice, each sender's order kept. A send that fails may still arrive
   *   (`BackplaneError.mayStillArrive`); `BackplaneError.retry()` sends it again with the same id,
   *   delivered once. Where catching up is impossible (Redis lost the stream, or trimmed it past a
   *   node), the loss is counted, logged, given to `onDeliveryLoss`, and the node's connections
   *   are closed with `allowReconnect`. Costs: one more Redis connection per hub and shard on each
   *   node, and every node reads every send (docs/scaling.md).
   *
   * @example
   * ```ts
   * redisLifetimeManager({ redis: process.env.REDIS_URL!, prefix: "myapp", delivery: "durable", streamMaxLength: 200_000,
   *   onDeliveryLoss: (loss) => metrics.alert("hubwire-loss", loss) });
   * ```
   */
  readonly delivery?: "pubsub" | "durable";
  /**
   * Durable delivery: entries each stream keeps, about (`XADD MAXLEN ~`, so Redis trims whole
   * blocks). A node away longer than this many sends takes to arrive loses the oldest it missed
   * (reported, `trimmed`). Default 100,000.
   */
  readonly streamMaxLength?: number;
  /**
   * Durable delivery: streams per hub. Each sender writes to one (its order is kept), every node
   * reads all, each on its own connection. More than 1 spreads a hub over Redis Cluster masters,
   * as sharded pub/sub spreads channels. Default 1.
   */
  readonly streamShards?: number;
  /**
   * Durable delivery: keep every stateful connection (a client with `withStatefulReconnect`) in
   * Redis, so that when its node dies (a crash, SIGKILL) its client's re-attach on another node
   * resumes it: the same connection id, user and groups, its unacknowledged messages and what was
   * sent to it meanwhile, once each and in order, and no `onreconnecting`. A call in flight on the
   * node that died ran at most once and is answered with an error that says so. Costs: one Redis
   * round trip before each message to such a connection is written, and one before the client's
   * messages are dispatched (docs/scaling.md). Default false.
   *
   * @example
   * ```ts
   * redisLifetimeManager({ redis: process.env.REDIS_URL!, delivery: "durable", keepConnections: true });
   * ```
   */
  readonly keepConnections?: boolean;
  /** Durable delivery: told of each loss found (it is also logged and counted). See `DeliveryLoss`. */
  readonly onDeliveryLoss?: (loss: DeliveryLoss) => void;
  readonly logger?: Logger;
  /** Where the backplane's health metrics go (OpenTelemetry). Default: the global MeterProvider. */
  readonly meterProvider?: MeterProvider;
  /** Where each publish's span goes (OpenTelemetry, `publish {channel}`, PRODUCER). Default: the global TracerProvider. */
  readonly tracerProvider?: TracerProvider;
}

/** Options for a backplane whose Redis connections Hubwire creates (and closes) itself. */
export interface RedisConnectionOptions extends Omit<RedisBackplaneOptions, "publisher" | "subscriber"> {
  /** A `redis://` URL, or ioredis options. */
  readonly redis: string | RedisOptions;
}

/**
 * Options for one hub's manager: the caller's clients (which it leaves open on close) or `redis`
 * (two connections it opens, and closes on close).
 */
export type RedisLifetimeManagerOptions = (RedisBackplaneOptions | RedisConnectionOptions) & { readonly hubName: string };

/** The defaults of the optional settings. */
export const backplaneDefaults = {
  prefix: "hubwire",
  ackTimeoutMs: 5_000,
  publishTimeoutMs: 2_000,
  heartbeatIntervalMs: 2_000,
  forwardTimeoutMs: 130_000,
  delivery: "pubsub",
  streamMaxLength: 100_000,
  streamShards: 1,
} as const;
