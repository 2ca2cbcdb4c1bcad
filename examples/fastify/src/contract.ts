/** The board hub's contract: rooms to join, messages posted to them, and a countdown stream. */
import type { HubContract } from "@hubwire/server";

export interface Board extends HubContract {
  server: {
    join(room: string): void;
    leave(room: string): void;
    /** Posts to everyone in `room`, the caller included if it joined. */
    post(room: string, text: string): void;
    /** Streams `from`, `from - 1`, ... 0, one a tick. */
    countdown(from: number): AsyncIterable<number>;
  };
  client: {
    receive(room: string, from: string, text: string): void;
  };
}
