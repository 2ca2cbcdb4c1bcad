/**
 * How durable delivery tells a node's connections that messages for them may be lost: each is
 * closed with a Close message that allows reconnecting (SignalR's `allowReconnect`), so that a
 * client with automatic reconnect comes back at once and the application can resynchronise it
 * (its `onreconnected`, or the hub's `onConnected`, fetches what it may have missed).
 *
 * Every connection the server registers (SignalR transports and gateway connections alike) has
 * `close`; `ManagedConnection` leaves it optional for test doubles, and one without it is logged,
 * never skipped in silence.
 *
 * @module
 */
import type { Logger, ManagedConnection } from "@hubwire/server";

/** What a client is told. */
export const resyncCloseError = "Messages for this connection may have been lost by the Redis backplane; reconnect to resynchronise.";

/**
 * Closes every connection given with `allowReconnect: true`; returns how many it closed.
 *
 * @example
 * ```ts
 * const closed = closeForResync(local.resolve({ kind: "all" }), "chat", logger);
 * ```
 */
export function closeForResync(connections: Iterable<ManagedConnection>, hubName: string, logger: Logger): number {
  let closed = 0;
  // A copy: closing a connection unregisters it from the collection being walked.
  for (const connection of [...connections]) {
    if (connection.close === undefined) {
      logger.log("error", "A connection that may have missed messages cannot be closed: it has no close().", {
        hubName,
        connectionId: connection.connectionId,
      });
      continue;
    }
    try {
      connection.close({ error: resyncCloseError, allowReconnect: true });
      closed++;
    } catch (error) {
      logger.log("error", "Closing a connection that may have missed messages failed.", {
        hubName,
        connectionId: connection.connectionId,
        error: (error as Error).message,
      });
    }
  }
  return closed;
}
