/**
 * Bounds how long in-flight Redis commands may wait, with one timer for all of them.
 *
 * Every publish used to race its own `setTimeout`: a timer armed and cleared per message, which
 * cost more than the publish itself at tens of thousands of messages a second. Here waits join a
 * queue in the order they started, and one sweep every quarter of the timeout rejects those past
 * it: a late answer is noticed within 1.25 times the timeout.
 *
 * @module
 */

interface Wait {
  readonly startedAt: number;
  settled: boolean;
  readonly reject: (error: Error) => void;
  readonly onTimeout: () => Error;
}

/**
 * @example
 * ```ts
 * const deadlines = new DeadlineQueue(2_000);
 * const receivers = await deadlines.bound(redis.publish(channel, payload), () => new BackplaneError("Redis did not answer."));
 * ```
 */
export class DeadlineQueue {
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #waits: Wait[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, now: () => number = () => performance.now()) {
    this.#timeoutMs = timeoutMs;
    this.#now = now;
  }

  /** How many waits the queue still holds (settled ones leave at the next sweep). */
  get size(): number {
    return this.#waits.length;
  }

  /** Settles as `work` does, or rejects with `onTimeout()` once it has taken longer than the timeout. */
  bound<T>(work: Promise<T>, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const wait: Wait = { startedAt: this.#now(), settled: false, reject, onTimeout };
      this.#waits.push(wait);
      this.#timer ??= setInterval(this.#sweep, Math.max(1, this.#timeoutMs / 4)).unref();
      work.then(
        (value) => {
          if (wait.settled) return;
          wait.settled = true;
          resolve(value);
        },
        (error: unknown) => {
          if (wait.settled) return;
          wait.settled = true;
          reject(error);
        },
      );
    });
  }

  readonly #sweep = (): void => {
    const cutoff = this.#now() - this.#timeoutMs;
    let kept = 0;
    // Waits start in order: past the first one that is neither settled nor late, none is late.
    while (kept < this.#waits.length) {
      const wait = this.#waits[kept]!;
      if (!wait.settled && wait.startedAt > cutoff) break;
      if (!wait.settled) {
        wait.settled = true;
        wait.reject(wait.onTimeout());
      }
      kept++;
    }
    this.#waits = kept === 0 ? this.#waits : this.#waits.slice(kept);
    if (this.#waits.length === 0) this.close();
  };

  /** Stops the sweep; waits still pending then settle only as their work does. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
