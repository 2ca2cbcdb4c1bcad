/**
 * The server's clock for timeouts and rates: whole milliseconds since the process started, from
 * `performance.now()`. It never goes back or jumps when the wall clock is set (an NTP step, a
 * suspended VM's catch-up), so such a jump cannot time connections out; and whole numbers are
 * stored inside the objects that keep them rather than as separate heap numbers.
 *
 * @module
 */

/**
 * Read once. On Node the global `performance` is a lazy accessor, which optimized code cannot fold
 * into a constant: read at every call, it cost about 160 instructions (a global load through the
 * inline cache's slow path), and a connection reads the clock for every message in and out.
 */
const clock = globalThis.performance;

/** Whole milliseconds since the process started; never goes back. */
export const monotonicNow = (): number => Math.floor(clock.now());
