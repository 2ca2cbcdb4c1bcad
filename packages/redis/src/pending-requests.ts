/**
 * The request/acknowledge table: what this node awaits from other nodes (an acknowledgement of
 * a group change or a client-result request, a client's result), by id. Each entry ends exactly
 * once: answered, timed out, aborted, or failed when the backplane closes.
 *
 * @module
 */
import { type Clock, systemClock } from "./clock.js";

/** How one awaited answer may end without arriving. */
export interface ExpectOptions {
  /** No limit when undefined. */
  readonly timeoutMs?: number | undefined;
  readonly onTimeout: () => Error;
  readonly signal?: AbortSignal | undefined;
  /** The error when `signal` aborts; default a plain "Aborted." error. */
  readonly onAbort?: () => Error;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * @example
 * ```ts
 * const requests = new PendingRequests();
 * const acknowledged = requests.expect("node1:7", { timeoutMs: 5_000, onTimeout: () => new UnknownConnectionError(connectionId) });
 * // when the Ack for "node1:7" arrives:
 * requests.resolve("node1:7", undefined);
 * await acknowledged;
 * ```
 */
export class PendingRequests {
  readonly #clock: Clock;
  readonly #pending = new Map<string, Pending>();

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  /** How many answers are awaited. */
  get size(): number {
    return this.#pending.size;
  }

  /** A promise settled by the answer with this id, or by the timeout or the signal. */
  expect(id: string, options: ExpectOptions): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // A signal that has already aborted never fires "abort": the call ends here, or never would.
      if (options.signal?.aborted) return reject(options.onAbort?.() ?? new Error("Aborted."));
      let cancelTimer: (() => void) | undefined;
      const done = () => {
        this.#pending.delete(id);
        cancelTimer?.();
        options.signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        done();
        reject(options.onAbort?.() ?? new Error("Aborted."));
      };
      if (options.timeoutMs !== undefined) {
        cancelTimer = this.#clock.after(options.timeoutMs, () => {
          done();
          reject(options.onTimeout());
        });
      }
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(id, {
        resolve: (value) => (done(), resolve(value)),
        reject: (error) => (done(), reject(error)),
      });
    });
  }

  /** Settles the entry `id` with `value`; false when nothing awaits it (already settled, or never asked). */
  resolve(id: string, value: unknown): boolean {
    const pending = this.#pending.get(id);
    pending?.resolve(value);
    return pending !== undefined;
  }

  /** Fails the entry `id`; false when nothing awaits it. */
  reject(id: string, error: Error): boolean {
    const pending = this.#pending.get(id);
    pending?.reject(error);
    return pending !== undefined;
  }

  /** Fails every entry (the backplane is closing). */
  rejectAll(error: Error): void {
    for (const pending of [...this.#pending.values()]) pending.reject(error);
  }
}
