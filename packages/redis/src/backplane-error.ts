/**
 * The one error a backplane send or command rejects with when the other nodes could not be
 * reached. Its `code` is stable (`HUBWIRE_BACKPLANE_UNAVAILABLE`, from the protocol's table).
 *
 * @module
 */
import { ErrorCode } from "@hubwire/protocol";

/** What a failed send of durable delivery (`delivery: "durable"`) adds to its error. */
export interface BackplaneErrorDetails {
  /** The message's id: every node delivers an id at most once. */
  readonly messageId?: string;
  /** Whether Redis may have taken it (it timed out, or the connection dropped with it in flight). */
  readonly mayStillArrive?: boolean;
  /** Sends the same message again, with the same id. */
  readonly retry?: () => Promise<void>;
}

/**
 * A send or command that could not reach the other nodes (Redis down, or no answer within the
 * acknowledgement timeout). Awaiting a send through the backplane rejects with it; the
 * connections on this node were still reached.
 *
 * With durable delivery, a failed send says whether it may still arrive (`mayStillArrive`:
 * Redis may have stored it before the answer was lost) and can be retried (`retry()`): the retry
 * carries the same message id, so each node delivers the message once, whether the first attempt
 * arrived or not. With pub/sub delivery, `retry` is undefined: a new send is a new message.
 *
 * @example
 * ```ts
 * try {
 *   await ctx.clients.group(room).receive(user, text);
 * } catch (error) {
 *   if (!(error instanceof BackplaneError)) throw error;
 *   // Durable delivery: try once more, with the same id (delivered once either way).
 *   if (error.retry !== undefined) await error.retry();
 *   else throw new HubError("Sent here, but other servers could not be reached; try again.");
 * }
 * ```
 */
export class BackplaneError extends Error {
  override readonly name = "BackplaneError";
  readonly code = ErrorCode.BackplaneUnavailable;
  /** The failed message's id (durable delivery); undefined for pub/sub and for commands. */
  readonly messageId: string | undefined;
  /**
   * Durable delivery: true when Redis may have stored the message anyway (it may still be
   * delivered, once), false when it was never sent. Pub/sub leaves it false, though a publish that
   * timed out there may also still arrive (docs/scaling.md).
   */
  readonly mayStillArrive: boolean;
  /** Durable delivery: sends the same message again (same id, so delivered at most once per node); rejects with a new BackplaneError if it fails again. */
  readonly retry: (() => Promise<void>) | undefined;

  constructor(message: string, details: BackplaneErrorDetails = {}) {
    super(message);
    this.messageId = details.messageId;
    this.mayStillArrive = details.mayStillArrive ?? false;
    this.retry = details.retry;
  }
}
