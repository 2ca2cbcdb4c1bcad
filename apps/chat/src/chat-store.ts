/**
 * Where the chat keeps room history and the name each connection uses in a room (who is in a
 * room at all is the hub's presence, across nodes): in memory for one process
 * (`memory-chat-store.ts`), in Redis when several nodes share the rooms (`redis-chat-store.ts`).
 * A store that cannot do a call says so with a {@link ChatStoreError}, whose message is meant for
 * the person who asked (the hub passes it on to the page).
 *
 * @module
 */
import type { ChatMessage } from "./contract.js";

export interface ChatStore {
  addMessage(message: ChatMessage): Promise<void>;
  /** The last messages of a room, oldest first. */
  history(room: string): Promise<ChatMessage[]>;
  /** Records that a connection is in a room under a name. */
  enter(room: string, connectionId: string, user: string): Promise<void>;
  exit(room: string, connectionId: string): Promise<void>;
  /** The names these connections use in a room, each once, sorted (a connection with none there is left out). */
  names(room: string, connectionIds: readonly string[]): Promise<string[]>;
}

/** How many messages a room keeps. */
export const HISTORY_LENGTH = 50;

/**
 * A store call that failed or got no answer in time. Its message is written for the caller
 * ("Redis did not answer within 2 s; try again."); `code` is stable.
 *
 * @example
 * ```ts
 * throw new ChatStoreError("Redis did not answer within 2 s; try again.");
 * ```
 */
export class ChatStoreError extends Error {
  override readonly name = "ChatStoreError";
  readonly code = "CHAT_STORE_UNAVAILABLE";
}

/**
 * Whether `error` is a {@link ChatStoreError}, matched by name too (a copy of this module loaded
 * twice makes a second class).
 *
 * @example
 * ```ts
 * if (isChatStoreError(error)) throw new HubError(error.message);
 * ```
 */
export function isChatStoreError(error: unknown): error is ChatStoreError {
  return error instanceof ChatStoreError || (error instanceof Error && error.name === "ChatStoreError");
}
