/**
 * The two Redis connections of a server's backplane, a publisher and a subscriber, shared by every
 * hub of the server, and who closes them: connections opened here (from a `redis` URL or options)
 * are closed when the last hub using them closes; clients the caller passed in are the caller's to
 * close. It speaks plain or sharded pub/sub, so nothing above it asks which, and it hands each
 * message to the hub whose channel it came on (the channel's `{prefix}:{hub}` base), so hubs that
 * share the connections never see each other's traffic.
 *
 * @module
 */
import { Redis } from "ioredis";
import type { RedisBackplaneOptions, RedisClient, RedisConnectionOptions } from "./backplane-options.js";

/** The events after which either connection's `status` may have changed. */
const statusEvents = ["ready", "close", "end", "reconnecting", "connect"] as const;

/** The connections already made for a pair of caller clients: every hub given the same clients shares them. */
const sharedByClients = new WeakMap<RedisClient, WeakMap<RedisClient, RedisConnections>>();

/**
 * @example
 * ```ts
 * const connections = RedisConnections.acquire({ redis: "redis://127.0.0.1:6379" });
 * const stop = connections.onMessage("myapp:chat", (message) => router.route(message));
 * await connections.subscribe(["myapp:chat:all"]);
 * await connections.publish("myapp:chat:all", payload);
 * stop();
 * connections.release(); // the last user of connections it opened disconnects them
 * ```
 */
export class RedisConnections {
  readonly publisher: RedisClient;
  readonly subscriber: RedisClient;
  readonly sharded: boolean;
  /** Whether these connections were opened here, and so are closed here. */
  readonly isOwned: boolean;

  /** The hubs' message listeners, by their channels' base (`{prefix}:{hub}`). */
  readonly #listeners = new Map<string, (message: Buffer) => void>();
  #stopListening: (() => void) | undefined;
  /** Hubs using these connections; opened connections close when it falls to zero. */
  #users = 0;
  #disconnected = false;

  /**
   * The connections already made for the caller's clients (or a new pair of them), or two new
   * connections to `redis`. Each hub that uses them calls {@link retain}, and {@link release} when
   * it closes.
   */
  static acquire(options: RedisBackplaneOptions | RedisConnectionOptions): RedisConnections {
    const sharded = options.sharded ?? false;
    if ("redis" in options) {
      const { redis } = options;
      const connect = () => (typeof redis === "string" ? new Redis(redis) : new Redis(redis));
      return new RedisConnections(connect(), connect(), { sharded, isOwned: true });
    }
    let bySubscriber = sharedByClients.get(options.publisher);
    if (bySubscriber === undefined) sharedByClients.set(options.publisher, (bySubscriber = new WeakMap()));
    let connections = bySubscriber.get(options.subscriber);
    if (connections === undefined || connections.sharded !== sharded) {
      connections = new RedisConnections(options.publisher, options.subscriber, { sharded, isOwned: false });
      bySubscriber.set(options.subscriber, connections);
    }
    return connections;
  }

  /** One more hub uses these connections. */
  retain(): this {
    this.#users++;
    return this;
  }

  /** Whether connections opened here were disconnected (their last hub closed): they cannot be used again. */
  get isDisconnected(): boolean {
    return this.#disconnected;
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

  /** Whether a hub with channels under `base` already reads from these connections. */
  serves(base: string): boolean {
    return this.#listeners.has(base);
  }

  /**
   * Calls `listener` with each message that arrives on a channel under `base` (a hub's
   * `{prefix}:{hub}`); returns a function that stops it. One hub per base.
   */
  onMessage(base: string, listener: (message: Buffer) => void): () => void {
    if (this.#listeners.has(base)) throw new Error(`Two hubs named '${base}' share one Redis backplane; give them different names or prefixes.`);
    this.#listeners.set(base, listener);
    if (this.#stopListening === undefined) {
      const event = this.sharded ? "smessageBuffer" : "messageBuffer";
      const onMessage = (channel: Buffer, message: Buffer) => {
        // `{prefix}:{hub}:...`, each part escaped so that it holds no ':' (channels.ts).
        const text = channel.toString("utf8");
        const end = text.indexOf(":", text.indexOf(":") + 1);
        this.#listeners.get(end === -1 ? text : text.slice(0, end))?.(message);
      };
      this.subscriber.on(event, onMessage);
      this.#stopListening = () => void this.subscriber.off(event, onMessage);
    }
    return () => {
      if (this.#listeners.get(base) !== listener) return;
      this.#listeners.delete(base);
      if (this.#listeners.size === 0) {
        this.#stopListening?.();
        this.#stopListening = undefined;
      }
    };
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

  /** One hub stopped using these connections; the last one disconnects those opened here (a caller's clients stay as they are). */
  release(): void {
    if (this.#users === 0) return;
    this.#users--;
    if (this.#users > 0 || !this.isOwned) return;
    this.#disconnected = true;
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}
