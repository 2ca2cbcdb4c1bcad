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
  /** Messages in and out, by the transport of the connection that carried them. */
  readonly byTransport = new Map<string, { messages: number }>();
  readonly #now: () => number;
  #last: { at: number; messagesIn: number; messagesOut: number; byTransport: Map<string, number> };
  #rates: TrafficRates = { messagesInPerSecond: 0, messagesOutPerSecond: 0, messagesPerSecondByTransport: {} };

  constructor(now: () => number) {
    this.#now = now;
    this.#last = { at: now(), messagesIn: 0, messagesOut: 0, byTransport: new Map() };
  }

  /** The counter of one transport's messages (made on first use). */
  transport(name: string): { messages: number } {
    let counter = this.byTransport.get(name);
    if (counter === undefined) this.byTransport.set(name, (counter = { messages: 0 }));
    return counter;
  }

  /**
   * Messages per second since the previous reading, if that was at least a second ago; else the
   * previous reading's rates (so that readers polling often see steady figures).
   */
  rates(): TrafficRates {
    const now = this.#now();
    const elapsedMs = now - this.#last.at;
    if (elapsedMs >= 1_000) {
      const perSecond = (count: number) => Math.round((count * 1_000) / elapsedMs);
      const byTransport: Record<string, number> = {};
      for (const [name, counter] of this.byTransport) byTransport[name] = perSecond(counter.messages - (this.#last.byTransport.get(name) ?? 0));
      this.#rates = {
        messagesInPerSecond: perSecond(this.messagesIn - this.#last.messagesIn),
        messagesOutPerSecond: perSecond(this.messagesOut - this.#last.messagesOut),
        messagesPerSecondByTransport: byTransport,
      };
      this.#last = {
        at: now,
        messagesIn: this.messagesIn,
        messagesOut: this.messagesOut,
        byTransport: new Map([...this.byTransport].map(([name, counter]) => [name, counter.messages])),
      };
    }
    return this.#rates;
  }
}

/** Messages per second between two readings: in, out, and both ways by transport. */
export interface TrafficRates {
  readonly messagesInPerSecond: number;
  readonly messagesOutPerSecond: number;
  readonly messagesPerSecondByTransport: Readonly<Record<string, number>>;
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
  /** Its transport's counter, once the connection has one (see {@link ConnectionTraffic.over}). */
  #transport: { messages: number } | undefined;

  constructor(totals?: TrafficTotals) {
    this.#totals = totals;
  }

  /** From now on its messages also count for this transport. */
  over(transport: string): void {
    this.#transport = this.#totals?.transport(transport);
  }

  /** Bytes read from the transport. */
  read(bytes: number): void {
    this.bytesIn += bytes;
  }

  /** A message arrived. */
  received(): void {
    this.messagesIn++;
    if (this.#totals !== undefined) this.#totals.messagesIn++;
    if (this.#transport !== undefined) this.#transport.messages++;
  }

  /** A message was written. */
  sent(): void {
    this.messagesOut++;
    if (this.#totals !== undefined) this.#totals.messagesOut++;
    if (this.#transport !== undefined) this.#transport.messages++;
  }

  /** Bytes handed to the transport. */
  wrote(bytes: number): void {
    this.bytesOut += bytes;
  }
}
