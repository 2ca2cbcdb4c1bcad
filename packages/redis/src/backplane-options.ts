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
} as const;
