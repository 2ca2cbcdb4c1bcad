/**
 * The chat's rooms in Redis, shared by every node: a capped list per room for history, a hash per
 * room of connection to name. Every call answers or fails within `timeoutMs`: a Redis that keeps
 * its connection open but answers nothing (paused, overloaded) must not leave a join hanging.
 *
 * @module
 */
import type { Redis } from "ioredis";
import { type ChatStore, ChatStoreError, HISTORY_LENGTH } from "./chat-store.js";
import type { ChatMessage } from "./contract.js";

export interface RedisChatStoreOptions {
  /** Key prefix, per application sharing a Redis. Default `"hubwire-chat"`. */
  readonly prefix?: string;
  /** A call Redis has not answered within this long fails with a {@link ChatStoreError}. Default 2 s. */
  readonly timeoutMs?: number;
}

/** The defaults of {@link RedisChatStoreOptions}. */
export const redisChatStoreDefaults = { prefix: "hubwire-chat", timeoutMs: 2_000 } as const;

/**
 * @example
 * ```ts
 * const store = new RedisChatStore(new Redis(url), { timeoutMs: 2_000 });
 * await store.names("lobby", connectionIds); // or a ChatStoreError within 2 s
 * ```
 */
export class RedisChatStore implements ChatStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #timeoutMs: number;

  constructor(redis: Redis, options: RedisChatStoreOptions = {}) {
    this.#redis = redis;
    this.#prefix = options.prefix ?? redisChatStoreDefaults.prefix;
    this.#timeoutMs = options.timeoutMs ?? redisChatStoreDefaults.timeoutMs;
  }

  async addMessage(message: ChatMessage): Promise<void> {
    const key = `${this.#prefix}:history:${message.room}`;
    const results = await this.#answer(this.#redis.multi().rpush(key, JSON.stringify(message)).ltrim(key, -HISTORY_LENGTH, -1).exec());
    // EXEC answers per command: a failed one is not a rejection.
    const failed = results?.find(([error]) => error !== null)?.[0];
    if (failed != null) throw new ChatStoreError(`Redis refused the message (${failed.message}).`);
  }

  async history(room: string): Promise<ChatMessage[]> {
    const entries = await this.#answer(this.#redis.lrange(`${this.#prefix}:history:${room}`, 0, -1));
    return entries.map((entry) => JSON.parse(entry) as ChatMessage);
  }

  async enter(room: string, connectionId: string, user: string): Promise<void> {
    await this.#answer(this.#redis.hset(`${this.#prefix}:members:${room}`, connectionId, user));
  }

  async exit(room: string, connectionId: string): Promise<void> {
    await this.#answer(this.#redis.hdel(`${this.#prefix}:members:${room}`, connectionId));
  }

  async names(room: string, connectionIds: readonly string[]): Promise<string[]> {
    if (connectionIds.length === 0) return [];
    const names = await this.#answer(this.#redis.hmget(`${this.#prefix}:members:${room}`, ...connectionIds));
    return [...new Set(names.filter((name) => name !== null))].sort();
  }

  /**
   * Redis's answer within the deadline, or a ChatStoreError. A command that missed the deadline
   * stays queued on its connection and may still run once Redis answers: commands on one
   * connection run in order, so an exit sent after a late enter still undoes it.
   */
  async #answer<T>(command: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ChatStoreError(`Redis did not answer within ${this.#timeoutMs / 1000} s; try again.`)), this.#timeoutMs);
    });
    const failed = command.catch((error: Error) => {
      throw new ChatStoreError(`Redis is unavailable (${error.message}); try again.`);
    });
    try {
      return await Promise.race([failed, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
