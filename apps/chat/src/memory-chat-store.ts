/** The chat's rooms in this process's memory: one node, nothing shared, nothing to wait for. */
import { type ChatStore, HISTORY_LENGTH } from "./chat-store.js";
import type { ChatMessage } from "./contract.js";

/**
 * @example
 * ```ts
 * const hub = createChatHub({ store: new MemoryChatStore(), node: new ChatNode("local"), log: console.error });
 * ```
 */
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

  async names(room: string, connectionIds: readonly string[]): Promise<string[]> {
    const members = this.#members.get(room);
    const names = connectionIds.map((id) => members?.get(id)).filter((name) => name !== undefined);
    return [...new Set(names)].sort();
  }
}
