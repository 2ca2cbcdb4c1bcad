/** The chat hub's contract, shared by the server (chat-hub.ts) and the page (page/main.ts). */
import type { HubContract } from "@hubwire/protocol";

export interface ChatMessage {
  readonly room: string;
  readonly user: string;
  readonly text: string;
  /** Milliseconds since the epoch, set by the server. */
  readonly at: number;
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
  };
  client: {
    message(message: ChatMessage): void;
    joined(room: string, user: string): void;
    left(room: string, user: string): void;
    typing(room: string, user: string): void;
  };
}
