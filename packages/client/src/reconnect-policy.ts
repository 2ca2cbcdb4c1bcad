/**
 * When to try reconnecting after a connection is lost: SignalR's default waits 0, 2, 10 and 30
 * seconds, then gives up.
 *
 * @module
 */
import * as ProtocolDefaults from "@hubwire/protocol/defaults";

/** What the policy knows when it decides. */
export interface RetryContext {
  /** Attempts made so far in this reconnect. */
  readonly previousRetryCount: number;
  /** Time since the connection was lost. */
  readonly elapsedMs: number;
  /** Why the connection was lost (or why the last attempt failed). */
  readonly retryReason: Error;
}

/** Returns the delay before the next attempt, or null to give up. */
export type RetryPolicy = (context: RetryContext) => number | null;

/**
 * A policy from a list of delays: attempt n waits `delaysMs[n]`, and after the list it gives up.
 *
 * @example
 * ```ts
 * new HubConnection<Chat>(url, { reconnect: delays([0, 1000, 5000]) });
 * ```
 */
export function delays(delaysMs: readonly number[] = ProtocolDefaults.reconnectDelaysMs): RetryPolicy {
  return ({ previousRetryCount }) => delaysMs[previousRetryCount] ?? null;
}
