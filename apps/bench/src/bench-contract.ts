import type { HubContract } from "@hubwire/protocol";

/** What the bench's hub serves; the socket.io and raw ws servers do the same under the same names. */
export interface BenchContract extends HubContract {
  server: {
    /** Answers with its argument: the echo RPC. */
    echo(payload: string): string;
    /** Sends `message(payload)` to every connection. */
    broadcast(payload: string): void;
    join(group: string): void;
    /** Sends `message(payload)` to the group's members, wherever they are connected. */
    relay(group: string, payload: string): void;
  };
  client: {
    message(payload: string): void;
  };
}
