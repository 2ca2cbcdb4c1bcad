/** The inbox hub's contract: what clients may call, and what the hub calls on them. */
import type { HubContract } from "@hubwire/server";

export interface Inbox extends HubContract {
  server: {
    /** The caller's user id: the `sub` of the token it connected with. */
    whoAmI(): string;
    /** Delivers `text` to every connection of `user` (none if that user is not connected). */
    sendToUser(user: string, text: string): void;
    /** Delivers `text` to everyone; only for tokens with the `admin` role. */
    announce(text: string): void;
  };
  client: {
    receive(from: string, text: string): void;
    announcement(from: string, text: string): void;
  };
}
