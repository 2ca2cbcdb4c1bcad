/**
 * Who answers an upgrade or an HTTP/2 CONNECT that no endpoint serves. Several of Hubwire's
 * listeners may share one server's `'upgrade'` or `'connect'` event (the hubs and a raw WebSocket
 * endpoint, say): each passes over the paths that are not its own, and the last of them to pass
 * answers, unless some listener of the app's is there too, whose paths those may be. Without this
 * each would leave the answer to the other, and the request would hang open.
 *
 * @module
 */
import type { EventEmitter } from "node:events";

/** How many of Hubwire's listeners each server has per event. */
const ownListeners = new WeakMap<EventEmitter, Map<string, number>>();
/** How many of Hubwire's listeners have passed over each request (socket or stream) so far. */
const passes = new WeakMap<object, number>();

/**
 * Adds one of Hubwire's listeners for `event`.
 *
 * @example
 * ```ts
 * listenAsHubwire(server, "upgrade", (request, socket, head) => route(request, socket, head));
 * ```
 */
export function listenAsHubwire(server: EventEmitter, event: string, listener: (...args: never[]) => void): void {
  const counts = ownListeners.get(server) ?? new Map<string, number>();
  counts.set(event, (counts.get(event) ?? 0) + 1);
  ownListeners.set(server, counts);
  server.on(event, listener as (...args: unknown[]) => void);
}

/**
 * Records that one of Hubwire's listeners does not serve `request`; true when it is the last of
 * them and no other listener is there, so it must answer (404, or 400 for an upgrade).
 *
 * @example
 * ```ts
 * if (!router.handleUpgrade(request, socket, head) && passOver(server, "upgrade", socket)) rejectUpgrade(socket, 400, "No WebSocket endpoint at this path.");
 * ```
 */
export function passOver(server: EventEmitter, event: string, request: object): boolean {
  const ours = ownListeners.get(server)?.get(event) ?? 0;
  const passed = (passes.get(request) ?? 0) + 1;
  passes.set(request, passed);
  return passed >= ours && server.listenerCount(event) <= ours;
}
