/**
 * The one error a backplane send or command rejects with when the other nodes could not be
 * reached. Its `code` is stable (`HUBWIRE_BACKPLANE_UNAVAILABLE`, from the protocol's table).
 *
 * @module
 */
import { ErrorCode } from "@hubwire/protocol";

/**
 * A send or command that could not reach the other nodes (Redis down, or no answer within the
 * acknowledgement timeout). Awaiting a send through the backplane rejects with it; the
 * connections on this node were still reached.
 *
 * @example
 * ```ts
 * try {
 *   await ctx.clients.group(room).receive(user, text);
 * } catch (error) {
 *   if (error instanceof BackplaneError) throw new HubError("Sent here, but other servers could not be reached; try again.");
 *   throw error;
 * }
 * ```
 */
export class BackplaneError extends Error {
  override readonly name = "BackplaneError";
  readonly code = ErrorCode.BackplaneUnavailable;
}
