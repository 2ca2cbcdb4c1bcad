/**
 * The words to show for a failed call. SignalR wraps a hub's own error in its generic text ("An
 * unexpected error occurred invoking 'send' on the server. HubException: <text>", or "An error
 * occurred on the server while streaming results. HubException: <text>"), and both our client
 * and the official one put the whole of it in the error's message; the page shows only <text>.
 *
 * @module
 */

/** What SignalR puts between its generic text and the hub's own words. */
const HUB_EXCEPTION = " HubException: ";

/**
 * The hub's own words when the server sent some, the error's message otherwise (a refused
 * connection, a generic server error, a closed connection).
 *
 * @example
 * ```ts
 * serverErrorText(new Error("An unexpected error occurred invoking 'send' on the server. HubException: Join 'lobby' first."));
 * // "Join 'lobby' first."
 * ```
 */
export function serverErrorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // The first one is SignalR's: its generic part never contains it, the hub's words may.
  const at = message.indexOf(HUB_EXCEPTION);
  return at === -1 ? message : message.slice(at + HUB_EXCEPTION.length);
}
