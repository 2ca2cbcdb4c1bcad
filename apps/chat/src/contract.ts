/** The chat hub's contract, shared by the server (chat-hub.ts) and the page (page/main.ts). */
import type { HubContract } from "@hubwire/protocol";

export interface ChatMessage {
  readonly room: string;
  readonly user: string;
  readonly text: string;
  /** Milliseconds since the epoch, set by the server. */
  readonly at: number;
}

/** Which node serves a page, and whether that node's rooms reach the other nodes. */
export interface NodeStatus {
  /** The node's id, as the admin page shows it (`local` for a node in memory). */
  readonly nodeId: string;
  /**
   * `memory`: one process, nothing shared; `redis`: shared over Redis, which answers;
   * `redis-lost`: Redis does not answer, so messages may not reach other servers until it is back.
   */
  readonly rooms: "memory" | "redis" | "redis-lost";
}

export interface ChatContract extends HubContract {
  server: {
    /** Joins a room under a name; returns who is already there. */
    join(room: string, user: string): string[];
    leave(room: string): void;
    send(room: string, text: string): void;
    typing(room: string): void;
    /** Who is in the room now (on every node). */
    who(room: string): string[];
    /** The room's last messages, oldest first. */
    history(room: string): AsyncIterable<ChatMessage>;
    /** The same messages in one answer, for clients without streams (socket.io-client). */
    recent(room: string): ChatMessage[];
  };
  client: {
    message(message: ChatMessage): void;
    joined(room: string, user: string): void;
    left(room: string, user: string): void;
    typing(room: string, user: string): void;
    /** Sent when the page connects, and again whenever Redis is lost or back. */
    nodeStatus(status: NodeStatus): void;
  };
}
