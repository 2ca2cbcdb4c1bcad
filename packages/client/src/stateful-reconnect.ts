/**
 * Stateful reconnect (SignalR's, with the server's `allowStatefulReconnect`) as its own entry
 * point, so that apps without it never load its replay buffer: a dropped transport (WebSockets,
 * SSE or long polling) is re-attached to the same connection, and what was sent or received
 * meanwhile is replayed, nothing lost or duplicated.
 *
 * @module
 * @example
 * ```ts
 * import { HubConnection } from "@hubwire/client";
 * import { statefulReconnect } from "@hubwire/client/stateful-reconnect";
 *
 * const connection = new HubConnection<Chat>("/chat", { statefulReconnect: statefulReconnect({ bufferBytes: 200_000 }) });
 * ```
 */
import * as ProtocolDefaults from "@hubwire/protocol/defaults";
import { MessageBuffer, type StatefulReconnect } from "./message-buffer.js";

export type { StatefulReconnect } from "./message-buffer.js";

/** Options of {@link statefulReconnect}. */
export interface StatefulReconnectOptions {
  /** Bytes of unacknowledged messages kept for replay before sends wait for the server's Ack. Default 100,000. */
  readonly bufferBytes?: number;
}

/**
 * The `statefulReconnect` option of a {@link HubConnection}: ask the server for stateful reconnect.
 *
 * @example
 * ```ts
 * new HubConnection<Chat>("/chat", { statefulReconnect: statefulReconnect() });
 * ```
 */
export function statefulReconnect(options: StatefulReconnectOptions = {}): StatefulReconnect {
  const bufferBytes = options.bufferBytes ?? ProtocolDefaults.statefulReconnectBufferBytes;
  return (context) => new MessageBuffer(bufferBytes, context);
}
