/**
 * Traffic counts for inspection: each connection's messages and bytes in and out, and its hub's
 * totals on this node with their rate per second. Plain counters, bumped on the read and write
 * paths; nothing is kept per message.
 *
 * @module
 * @example
 * ```ts
 * const totals = new TrafficTotals(() => Date.now());
 * const traffic = new ConnectionTraffic(totals);
 * traffic.received(42);
 * totals.rates(); // { messagesInPerSecond, messagesOutPerSecond } since the previous reading
 * ```
 */

/**
 * One hub's messages on this node, in all, and their rate between two readings.
 *
 * @example
 * ```ts
 * const totals = new TrafficTotals(monotonicNow);
 * ```
 */
export class TrafficTotals {
  messagesIn = 0;
  messagesOut = 0;
  readonly #now: () => number;
  #last: { at: number; messagesIn: number; messagesOut: number };
  #rates = { messagesInPerSecond: 0, messagesOutPerSecond: 0 };

  constructor(now: () => number) {
    this.#now = now;
    this.#last = { at: now(), messagesIn: 0, messagesOut: 0 };
  }

  /**
   * Messages per second since the previous reading, if that was at least a second ago; else the
   * previous reading's rates (so that readers polling often see steady figures).
   */
  rates(): { readonly messagesInPerSecond: number; readonly messagesOutPerSecond: number } {
    const now = this.#now();
    const elapsedMs = now - this.#last.at;
    if (elapsedMs >= 1_000) {
      const perSecond = (count: number) => Math.round((count * 1_000) / elapsedMs);
      this.#rates = {
        messagesInPerSecond: perSecond(this.messagesIn - this.#last.messagesIn),
        messagesOutPerSecond: perSecond(this.messagesOut - this.#last.messagesOut),
      };
      this.#last = { at: now, messagesIn: this.messagesIn, messagesOut: this.messagesOut };
    }
    return this.#rates;
  }
}

/**
 * One connection's messages and bytes, which also count into its hub's totals.
 *
 * @example
 * ```ts
 * const traffic = new ConnectionTraffic(totals);
 * traffic.sent(120);
 * ```
 */
export class ConnectionTraffic {
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  readonly #totals: TrafficTotals | undefined;

  constructor(totals?: TrafficTotals) {
    this.#totals = totals;
  }

  /** Bytes read from the transport. */
  read(bytes: number): void {
    this.bytesIn += bytes;
  }

  /** A message arrived. */
  received(): void {
    this.messagesIn++;
    if (this.#totals !== undefined) this.#totals.messagesIn++;
  }

  /** A message was written. */
  sent(): void {
    this.messagesOut++;
    if (this.#totals !== undefined) this.#totals.messagesOut++;
  }

  /** Bytes handed to the transport. */
  wrote(bytes: number): void {
    this.bytesOut += bytes;
  }
}
