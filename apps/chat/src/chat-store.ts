/**
 * Where the chat keeps room history and who is in each room: in memory for one process, in Redis
 * when several nodes share the rooms.
 */
import type { Redis } from "ioredis";
import type { ChatMessage } from "./contract.js";

export interface ChatStore {
  addMessage(message: ChatMessage): Promise<void>;
  /** The last messages of a room, oldest first. */
  history(room: string): Promise<ChatMessage[]>;
  /** Records that a connection is in a room under a name. */
  enter(room: string, connectionId: string, user: string): Promise<void>;
  exit(room: string, connectionId: string): Promise<void>;
  /** The names in a room, each once, sorted. */
  members(room: string): Promise<string[]>;
}

export const HISTORY_LENGTH = 50;

export class MemoryChatStore implements ChatStore {
  readonly #messages = new Map<string, ChatMessage[]>();
  readonly #members = new Map<string, Map<string, string>>();

  async addMessage(message: ChatMessage): Promise<void> {
    const list = this.#messages.get(message.room) ?? [];
    list.push(message);
    if (list.length > HISTORY_LENGTH) list.shift();
    this.#messages.set(message.room, list);
  }

  async history(room: string): Promise<ChatMessage[]> {
    return [...(this.#messages.get(room) ?? [])];
  }

  async enter(room: string, connectionId: string, user: string): Promise<void> {
    const members = this.#members.get(room) ?? new Map<string, string>();
    members.set(connectionId, user);
    this.#members.set(room, members);
  }

  async exit(room: string, connectionId: string): Promise<void> {
    const members = this.#members.get(room);
    members?.delete(connectionId);
    if (members?.size === 0) this.#members.delete(room);
  }

  async members(room: string): Promise<string[]> {
    return [...new Set(this.#members.get(room)?.values() ?? [])].sort();
  }
}

/** Rooms in Redis: a capped list per room for history, a hash per room of connection to name. */
export class RedisChatStore implements ChatStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix = "hubwire-chat") {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async addMessage(message: ChatMessage): Promise<void> {
    const key = `${this.#prefix}:history:${message.room}`;
    await this.#redis.multi().rpush(key, JSON.stringify(message)).ltrim(key, -HISTORY_LENGTH, -1).exec();
  }

  async history(room: string): Promise<ChatMessage[]> {
    const entries = await this.#redis.lrange(`${this.#prefix}:history:${room}`, 0, -1);
    return entries.map((entry) => JSON.parse(entry) as ChatMessage);
  }

  async enter(room: string, connectionId: string, user: string): Promise<void> {
    await this.#redis.hset(`${this.#prefix}:members:${room}`, connectionId, user);
  }

  async exit(room: string, connectionId: string): Promise<void> {
    await this.#redis.hdel(`${this.#prefix}:members:${room}`, connectionId);
  }

  async members(room: string): Promise<string[]> {
    return [...new Set(await this.#redis.hvals(`${this.#prefix}:members:${room}`))].sort();
  }
}
