/**
 * A client's WebSocket joined to a relay's end (`connection-routing.ts`): on the node a client
 * reached, what the client sends goes to the node holding its connection, and what the holder
 * sends goes to the client, in order. A close on either side closes the other with the same code
 * (1005 and 1006, which no close frame may carry, reach the client as 1000 and 1011); the client's
 * socket pauses while the holder does not read; a client that does not read what it is sent is cut
 * (1008) at the same bound as a connection held here.
 *
 * @module
 */
import type { RelaySocket } from "./connection-routing.js";
import type { Logger } from "./logger.js";
import type { RuntimeWebSocket } from "./runtime/runtime-websocket.js";

/** The code a close frame to the client can carry for `code` (RFC 6455 section 7.4). */
export function sendableCloseCode(code: number): number {
  if (code === 1005) return 1000;
  const reserved = code === 1004 || code === 1006 || code === 1015;
  return (code >= 1000 && code <= 1014 && !reserved) || (code >= 3000 && code <= 4999) ? code : 1011;
}

/**
 * Joins the client's socket and the holder's end of a relay.
 *
 * @example
 * ```ts
 * const answer = await routing.relay(nodeId, request);
 * if (answer.kind === "accepted") spliceWebSockets(await handshake.accept(limits), answer.holder, { maxBufferedBytes, logger });
 * ```
 */
export function spliceWebSockets(client: RuntimeWebSocket, holder: RelaySocket, options: { readonly maxBufferedBytes: number; readonly logger: Logger }): void {
  client.listen({
    message: (data, isBinary) => holder.send(data, isBinary),
    closed: (code, reason) => holder.close(code, reason),
  });
  holder.listen({
    message: (data, isBinary) => {
      client.send(data, isBinary);
      if (client.bufferedBytes <= options.maxBufferedBytes) return;
      options.logger.log("warn", "Cutting a relayed client that does not read what it is sent.", {});
      const reason = "The client is not reading fast enough.";
      client.close(1008, reason);
      holder.close(1008, reason);
    },
    closed: (code, reason) => client.close(sendableCloseCode(code), reason),
  });
  holder.onFlow((paused) => (paused ? client.pause() : client.resume()));
}
