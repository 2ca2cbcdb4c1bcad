/** The chat hub's contract, imported by the hub (server) and by the page (useHub<Chat>). */
import type { HubContract } from "@hubwire/client";

export interface ChatMessage {
  /** Increases with each message: a stable React key. */
  readonly id: number;
  readonly user: string;
  readonly text: string;
  /** The server's clock, in milliseconds since the epoch. */
  readonly at: number;
}

export interface Chat extends HubContract {
  server: {
    send(user: string, text: string): void;
  };
  client: {
    receive(message: ChatMessage): void;
  };
}
