/**
 * Which channels this node subscribes to, and how many local reasons hold each: a group channel
 * is held by each local member, a user channel by each of the user's local connections. Redis is
 * asked to subscribe on the first hold and to unsubscribe on the last release; after a reconnect
 * every held channel is asked for again.
 *
 * @module
 */
import type { Logger } from "@hubwire/server";
import type { RedisConnections } from "./redis-connections.js";

/**
 * @example
 * ```ts
 * const subscriptions = new ChannelSubscriptions(connections, logger);
 * await subscriptions.hold(channels.group("room")); // SUBSCRIBE
 * await subscriptions.hold(channels.group("room")); // counted only
 * await subscriptions.release(channels.group("room")); // counted only
 * await subscriptions.release(channels.group("room")); // UNSUBSCRIBE
 * ```
 */
export class ChannelSubscriptions {
  readonly #connections: RedisConnections;
  readonly #logger: Logger;
  /** Channel subscriptions and how many local reasons hold each. */
  readonly #holders = new Map<string, number>();
  #closed = false;

  constructor(connections: RedisConnections, logger: Logger) {
    this.#connections = connections;
    this.#logger = logger;
  }

  /** The channels held (for tests and diagnostics). */
  get channels(): string[] {
    return [...this.#holders.keys()];
  }

  /** Holds `channel`, subscribing on the first hold. A failure is logged, never thrown. */
  async hold(channel: string): Promise<void> {
    const holders = this.#holders.get(channel) ?? 0;
    this.#holders.set(channel, holders + 1);
    if (holders > 0) return;
    try {
      await this.#connections.subscribe([channel]);
    } catch (error) {
      this.#logger.log("warn", "Subscribing failed.", { channel, error: (error as Error).message });
    }
  }

  /** Releases one hold of `channel`, unsubscribing on the last. */
  async release(channel: string): Promise<void> {
    const holders = this.#holders.get(channel) ?? 0;
    if (holders > 1) {
      this.#holders.set(channel, holders - 1);
      return;
    }
    this.#holders.delete(channel);
    if (holders === 0 || this.#closed) return;
    try {
      await this.#connections.unsubscribe([channel]);
    } catch (error) {
      this.#logger.log("debug", "Unsubscribing failed.", { channel, error: (error as Error).message });
    }
  }

  /** Asks again for every held channel: ones asked for while Redis was away may have failed (it is idempotent). */
  async restore(): Promise<void> {
    const channels = this.channels;
    if (channels.length === 0 || this.#closed) return;
    try {
      await this.#connections.subscribe(channels);
    } catch (error) {
      this.#logger.log("warn", "Re-subscribing after a reconnect failed.", { error: (error as Error).message });
    }
  }

  /** Forgets every hold and unsubscribes from every channel if the subscriber is up; the promise never rejects. */
  async close(): Promise<void> {
    this.#closed = true;
    const channels = this.channels;
    this.#holders.clear();
    if (channels.length === 0 || !this.#connections.isSubscriberReady) return;
    await this.#connections.unsubscribe(channels).catch(() => undefined);
  }
}
