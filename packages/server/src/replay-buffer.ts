/**
 * Stateful reconnect's outgoing side: every trackable message (types 1 to 5) gets the next
 * sequence id and stays here, as sent bytes, until the client acknowledges it; after a dropped
 * WebSocket is re-attached, whatever was not acknowledged is sent again. Capped in bytes per
 * connection (senders wait past the cap: back-pressure) and across connections (a shared budget).
 *
 * @module
 */

/** Bytes held by every replay buffer of a server, against one limit. */
export class ReplayBudget {
  readonly limitBytes: number;
  #usedBytes = 0;

  constructor(limitBytes: number) {
    this.limitBytes = limitBytes;
  }

  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** Takes `bytes` from the budget; false (and nothing taken) when that would pass the limit. */
  reserve(bytes: number): boolean {
    if (this.#usedBytes + bytes > this.limitBytes) return false;
    this.#usedBytes += bytes;
    return true;
  }

  release(bytes: number): void {
    this.#usedBytes -= bytes;
  }
}

interface Entry {
  readonly sequenceId: number;
  readonly bytes: Uint8Array;
}

/** One connection's unacknowledged messages. */
export class ReplayBuffer {
  readonly #limitBytes: number;
  readonly #budget: ReplayBudget;
  #entries: Entry[] = [];
  #bytes = 0;
  #lastSequenceId = 0;
  #waiters: Array<() => void> = [];

  constructor(limitBytes: number, budget: ReplayBudget) {
    this.#limitBytes = limitBytes;
    this.#budget = budget;
  }

  get bufferedBytes(): number {
    return this.#bytes;
  }

  /** The id the next replay starts at: the oldest unacknowledged message, or the next to be sent. */
  get firstSequenceId(): number {
    return this.#entries[0]?.sequenceId ?? this.#lastSequenceId + 1;
  }

  get entries(): readonly Entry[] {
    return this.#entries;
  }

  /**
   * Keeps a message that is being sent. Returns `"ok"`, `"full"` (kept; the sender should wait for
   * {@link ReplayBuffer.whenNotFull}) or `"overflow"` (not kept: the per-connection hard cap of
   * twice the limit, or the shared budget, is exhausted; the connection should end).
   */
  add(bytes: Uint8Array): "ok" | "full" | "overflow" {
    if (this.#bytes + bytes.length > 2 * this.#limitBytes || !this.#budget.reserve(bytes.length)) return "overflow";
    this.#entries.push({ sequenceId: ++this.#lastSequenceId, bytes });
    this.#bytes += bytes.length;
    return this.#bytes >= this.#limitBytes ? "full" : "ok";
  }

  /** Resolves once the buffer is under its limit (or cleared). */
  whenNotFull(): Promise<void> {
    if (this.#bytes < this.#limitBytes) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The client processed everything up to `sequenceId`. */
  ack(sequenceId: number): void {
    let drop = 0;
    while (drop < this.#entries.length && this.#entries[drop]!.sequenceId <= sequenceId) {
      this.#bytes -= this.#entries[drop]!.bytes.length;
      this.#budget.release(this.#entries[drop]!.bytes.length);
      drop++;
    }
    if (drop > 0) this.#entries = this.#entries.slice(drop);
    if (this.#bytes < this.#limitBytes) this.#wake();
  }

  /** Frees everything (the connection is over). */
  clear(): void {
    this.#budget.release(this.#bytes);
    this.#entries = [];
    this.#bytes = 0;
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
