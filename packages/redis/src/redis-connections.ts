/**
 * The two Redis connections of one manager, a publisher and a subscriber, and who closes them:
 * connections the manager opened (from a `redis` URL or options) are closed with it; clients the
 * caller passed in are the caller's to close. It speaks plain or sharded pub/sub, so nothing
 * above it asks which.
 *
 * @module
 */
import { Redis } from "ioredis";
import type { RedisBackplaneOptions, RedisClient, RedisConnectionOptions } from "./backplane-options.js";

/** The events after which either connection's `status` may have changed. */
const statusEvents = ["ready", "close", "end", "reconnecting", "connect"] as const;

/**
 * @example
 * ```ts
 * const connections = RedisConnections.open({ redis: "redis://127.0.0.1:6379" });
 * const stop = connections.onMessage((message) => router.route(message));
 * await connections.subscribe(["myapp:chat:all"]);
 * await connections.publish("myapp:chat:all", payload);
 * stop();
 * connections.close(); // disconnects both: it opened them
 * ```
 */
export class RedisConnections {
  readonly publisher: RedisClient;
  readonly subscriber: RedisClient;
  readonly sharded: boolean;
  /** Whether these connections were opened here, and so are closed here. */
  readonly isOwned: boolean;

  /** The caller's clients when given, else two new connections to `redis`. */
  static open(options: RedisBackplaneOptions | RedisConnectionOptions): RedisConnections {
    const sharded = options.sharded ?? false;
    if (!("redis" in options)) return new RedisConnections(options.publisher, options.subscriber, { sharded, isOwned: false });
    const { redis } = options;
    const connect = () => (typeof redis === "string" ? new Redis(redis) : new Redis(redis));
    return new RedisConnections(connect(), connect(), { sharded, isOwned: true });
  }

  constructor(publisher: RedisClient, subscriber: RedisClient, options: { readonly sharded: boolean; readonly isOwned: boolean }) {
    this.publisher = publisher;
    this.subscriber = subscriber;
    this.sharded = options.sharded;
    this.isOwned = options.isOwned;
  }

  /** Whether both connections are ready. */
  get isReady(): boolean {
    return this.publisher.status === "ready" && this.subscriber.status === "ready";
  }

  get isPublisherReady(): boolean {
    return this.publisher.status === "ready";
  }

  get isSubscriberReady(): boolean {
    return this.subscriber.status === "ready";
  }

  /** PUBLISH (or SPUBLISH); resolves with how many subscribers Redis handed the message to. */
  publish(channel: string, payload: Uint8Array): Promise<number> {
    const buffer = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    return (this.sharded ? this.publisher.spublish(channel, buffer) : this.publisher.publish(channel, buffer)) as Promise<number>;
  }

  /** SUBSCRIBE (or one SSUBSCRIBE per channel: sharded channels live in different slots). */
  subscribe(channels: readonly string[]): Promise<unknown> {
    return this.sharded ? Promise.all(channels.map((channel) => this.subscriber.ssubscribe(channel))) : this.subscriber.subscribe(...channels);
  }

  /** UNSUBSCRIBE (or one SUNSUBSCRIBE per channel). */
  unsubscribe(channels: readonly string[]): Promise<unknown> {
    return this.sharded ? Promise.all(channels.map((channel) => this.subscriber.sunsubscribe(channel))) : this.subscriber.unsubscribe(...channels);
  }

  /** Calls `listener` with each message the subscriber receives; returns a function that stops it. */
  onMessage(listener: (message: Buffer) => void): () => void {
    const event = this.sharded ? "smessageBuffer" : "messageBuffer";
    const onMessage = (_channel: Buffer, message: Buffer) => listener(message);
    this.subscriber.on(event, onMessage);
    return () => void this.subscriber.off(event, onMessage);
  }

  /**
   * Calls `onStatus` whenever either connection may have changed status, and `onError` with what
   * either reports; returns a function that stops both.
   */
  watch(onStatus: () => void, onError: (error: Error) => void): () => void {
    // In sharded mode the subscriber may be the publisher: one listener each, not two.
    const clients = new Set([this.publisher, this.subscriber]);
    for (const client of clients) {
      for (const event of statusEvents) client.on(event, onStatus);
      client.on("error", onError);
    }
    return () => {
      for (const client of clients) {
        for (const event of statusEvents) client.off(event, onStatus);
        client.off("error", onError);
      }
    };
  }

  /** Disconnects the connections opened here; leaves a caller's clients as they are. */
  close(): void {
    if (!this.isOwned) return;
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}
