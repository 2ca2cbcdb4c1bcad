/**
 * The entry's side of a relay (`connection-routing.ts`): a stateful re-attach (a WebSocket, or an
 * event stream) reached this node, and another node holds its connection. The holder decides:
 * its refusal reaches the client as it is; once it took the request, this node answers the client
 * (completes the WebSocket handshake, begins the event stream) and carries the traffic between
 * the client and the relay, in order.
 *
 * - A close on either side closes the other with the same code (1005 and 1006, which no close
 *   frame may carry, reach the client as 1000 and 1011); the client going away closes the relay.
 * - The client's socket pauses while the holder does not read.
 * - A client that does not read what it is sent is cut (1008) at the same bound as a connection
 *   held here (`maxOutboundBufferBytes`).
 *
 * @module
 */
import { type ConnectionRouting, forwardedHeaders, type RelayAnswer, type RelayedRequest, type RelaySocket, RoutingError } from "./connection-routing.js";
import type { Logger } from "./logger.js";
import type { HttpExchange, HubRequest } from "./runtime/http-exchange.js";
import type { RuntimeWebSocket, WebSocketHandshake } from "./runtime/runtime-websocket.js";

/** What a relay's entry needs of its endpoint. */
export interface RelayEntrySide {
  readonly path: string;
  readonly logger: Logger;
  /** The bytes a relayed client may have queued before it is cut (1008). */
  readonly maxOutboundBufferBytes: number;
}

const slowClient = "The client is not reading fast enough.";

/** The code a close frame to the client can carry for `code` (RFC 6455 section 7.4). */
export function sendableCloseCode(code: number): number {
  if (code === 1005) return 1000;
  const reserved = code === 1004 || code === 1006 || code === 1015;
  return (code >= 1000 && code <= 1014 && !reserved) || (code >= 3000 && code <= 4999) ? code : 1011;
}

/**
 * Relays a WebSocket to the node holding its connection: the handshake completes once the holder took it.
 *
 * @example
 * ```ts
 * await relayWebSocket(routing, nodeId, request, handshake, { maxMessageBytes }, { path, logger, maxOutboundBufferBytes });
 * ```
 */
export async function relayWebSocket(
  routing: ConnectionRouting,
  nodeId: string,
  request: HubRequest,
  handshake: WebSocketHandshake,
  limits: { readonly maxMessageBytes: number },
  side: RelayEntrySide,
): Promise<void> {
  const { logger, path } = side;
  const answer = await ask(routing, nodeId, relayedRequest(request, "websocket"), side);
  if (answer.kind === "refused") return handshake.refuse(answer.status, answer.message);
  const client = await Promise.resolve(handshake.accept(limits)).catch((error: unknown) => {
    logger.log("warn", "A relayed WebSocket's handshake failed.", { path, nodeId, error });
    return undefined;
  });
  // The holder took the connection over this relay: it learns that the client left (and awaits a re-attach).
  if (client === undefined) return answer.holder.close(1006, "The client left during the WebSocket handshake.");
  logger.log("debug", "A WebSocket is relayed to the node holding its connection.", { path, nodeId });
  spliceWebSockets(client, answer.holder, { maxBufferedBytes: side.maxOutboundBufferBytes, logger });
}

/**
 * Relays an event stream to the node holding its connection: the stream begins here with the
 * holder's status and headers, and each chunk the holder writes is written to the client.
 *
 * @example
 * ```ts
 * await relayEventStream(routing, nodeId, exchange, { path, logger, maxOutboundBufferBytes });
 * ```
 */
export async function relayEventStream(routing: ConnectionRouting, nodeId: string, exchange: HttpExchange, side: RelayEntrySide): Promise<void> {
  const { logger, path } = side;
  exchange.discardBody();
  let holder: RelaySocket | undefined;
  let gone = false;
  // Registered first: a client that leaves while the holder is asked must still close the relay.
  exchange.onClose(() => {
    gone = true;
    holder?.close(1006, "The client's event stream closed.");
  });
  const answer = await ask(routing, nodeId, relayedRequest(exchange, "events"), side);
  if (answer.kind === "refused") return exchange.respond(answer.status, answer.headers, answer.message);
  if (gone) return answer.holder.close(1006, "The client left before its event stream began.");
  holder = answer.holder;
  const relay = holder;
  logger.log("debug", "An event stream is relayed from the node holding its connection.", { path, nodeId });
  exchange.beginStream(answer.status, answer.headers);
  relay.listen({
    message: (chunk) => {
      exchange.write(chunk);
      if (exchange.bufferedBytes <= side.maxOutboundBufferBytes) return;
      logger.log("warn", "Cutting a relayed client that does not read what it is sent.", { path, nodeId });
      relay.close(1008, slowClient);
      exchange.end();
    },
    closed: () => exchange.end(),
  });
}

/**
 * Joins the client's socket and the holder's end of a relay.
 *
 * @example
 * ```ts
 * spliceWebSockets(client, answer.holder, { maxBufferedBytes: 8 * 1024 * 1024, logger });
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
      client.close(1008, slowClient);
      holder.close(1008, slowClient);
    },
    closed: (code, reason) => client.close(sendableCloseCode(code), reason),
  });
  holder.onFlow((paused) => (paused ? client.pause() : client.resume()));
}

function relayedRequest(request: HubRequest, transport: RelayedRequest["transport"]): RelayedRequest {
  return { method: "GET", url: request.url, headers: forwardedHeaders(request.headers), remoteAddress: request.remoteAddress, transport };
}

/** The holder's answer; a relay that cannot be asked is refused here as a forward would be (404 when the holder is gone, 503). */
async function ask(routing: ConnectionRouting, nodeId: string, request: RelayedRequest, side: RelayEntrySide): Promise<RelayAnswer> {
  try {
    return await routing.relay(nodeId, request);
  } catch (error) {
    const status = error instanceof RoutingError ? error.status : 503;
    side.logger.log(status === 404 ? "debug" : "warn", "A request could not be relayed to the node holding its connection.", {
      path: side.path,
      nodeId,
      transport: request.transport,
      error,
    });
    const message = status === 404 ? "No Connection with that ID" : "The node that holds this connection cannot be reached; try again.";
    return { kind: "refused", status, message, headers: { "Content-Type": "text/plain; charset=utf-8" } };
  }
}
