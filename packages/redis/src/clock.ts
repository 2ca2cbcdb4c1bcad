/**
 * Time for the backplane: a monotonic `now()` and one-shot timers, behind a seam so that the
 * units that wait (the request table, node liveness) can be tested without waiting.
 *
 * @module
 */

/**
 * Milliseconds that a wall-clock jump cannot move, and one-shot timers.
 *
 * @example
 * ```ts
 * const cancel = clock.after(5_000, () => reject(new Error("No answer.")));
 * // the answer came first:
 * cancel();
 * ```
 */
export interface Clock {
  /** Monotonic milliseconds (only differences mean anything). */
  now(): number;
  /** Calls `callback` once, `delayMs` from now; the function returned cancels it. */
  after(delayMs: number, callback: () => void): () => void;
}

/** The process's clock: `performance.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => performance.now(),
  after: (delayMs, callback) => {
    const timer = setTimeout(callback, delayMs);
    return () => clearTimeout(timer);
  },
};
