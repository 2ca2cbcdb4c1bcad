/**
 * Stateful reconnect's outgoing side: every trackable message (types 1 to 5) gets the next
 * sequence id and stays here, as sent bytes, until the client acknowledges it; after a dropped
 * WebSocket is re-attached, whatever was not acknowledged is sent again. Capped in bytes per
 * connection (past the cap, messages wait in order until acknowledgements make room, and senders
 * that await them wait too: back-pressure) and across connections (a shared budget).
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

  /** Takes `bytes` even past the limit (for messages admitted elsewhere and owed to a client). */
  take(bytes: number): void {
    this.#usedBytes += bytes;
  }

  release(bytes: number): void {
    this.#usedBytes -= bytes;
  }
}

interface Entry {
  readonly sequenceId: number;
  readonly bytes: Uint8Array;
}

/** One connection's unacknowledged messages, and those that wait for room among them. */
export class ReplayBuffer {
  readonly #limitBytes: number;
  readonly #budget: ReplayBudget;
  /** Writes a held message once acknowledgements made room for it (numbered and kept by then). */
  readonly #release: (bytes: Uint8Array) => void;
  #entries: Entry[] = [];
  #bytes = 0;
  #lastSequenceId = 0;
  /** Messages offered while the buffer was over its limit, in order, not numbered yet. */
  #held: Uint8Array[] = [];
  #heldBytes = 0;
  #waiters: Array<() => void> = [];

  constructor(limitBytes: number, budget: ReplayBudget, release: (bytes: Uint8Array) => void) {
    this.#limitBytes = limitBytes;
    this.#budget = budget;
    this.#release = release;
  }

  get bufferedBytes(): number {
    return this.#bytes;
  }

  /** Whether what is offered now waits: the buffer is at its limit, or messages wait already. */
  get isFull(): boolean {
    return this.#bytes >= this.#limitBytes || this.#held.length > 0;
  }

  /** Bytes of the messages that wait for room. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** The id the next replay starts at: the oldest unacknowledged message, or the next to be sent. */
  get firstSequenceId(): number {
    return this.#entries[0]?.sequenceId ?? this.#lastSequenceId + 1;
  }

  get entries(): readonly Entry[] {
    return this.#entries;
  }

  /** The id of the newest message numbered (sent, or released after waiting). */
  get lastSequenceId(): number {
    return this.#lastSequenceId;
  }

  /** The id the newest message offered has or will have: those that wait are numbered in order when released. */
  get lastOfferedSequenceId(): number {
    return this.#lastSequenceId + this.#held.length;
  }

  /**
   * Takes the unacknowledged messages of a connection another node held (connection-keeping.ts),
   * numbered as they were; the next message gets `lastSequenceId + 1`.
   */
  restore(entries: readonly Entry[], lastSequenceId: number): void {
    for (const entry of entries) {
      // Admitted whatever the shared budget says: they were admitted once, and are owed to the client.
      this.#budget.take(entry.bytes.length);
      this.#entries.push(entry);
      this.#bytes += entry.bytes.length;
    }
    this.#lastSequenceId = lastSequenceId;
  }

  /**
   * Offers a message to be sent. `"send"`: numbered and kept, write it now. `"held"`: the buffer
   * is over its limit (or earlier messages wait), so it waits, in order, and is written through
   * `release` once the client's acknowledgements make room, as .NET's writes wait then. A message
   * is admitted whatever its size while the buffer is under its limit. `"overflow"`: the shared
   * budget is exhausted; nothing is kept and the connection should end.
   */
  offer(bytes: Uint8Array): "send" | "held" | "overflow" {
    if (!this.#budget.reserve(bytes.length)) return "overflow";
    if (this.isFull) {
      this.#held.push(bytes);
      this.#heldBytes += bytes.length;
      return "held";
    }
    this.#keep(bytes);
    return "send";
  }

  /** Resolves once the buffer is under its limit with nothing held (or cleared). */
  whenNotFull(): Promise<void> {
    if (!this.isFull) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The client processed everything up to `sequenceId`; held messages take the room that frees. */
  ack(sequenceId: number): void {
    let drop = 0;
    while (drop < this.#entries.length && this.#entries[drop]!.sequenceId <= sequenceId) {
      this.#bytes -= this.#entries[drop]!.bytes.length;
      this.#budget.release(this.#entries[drop]!.bytes.length);
      drop++;
    }
    if (drop > 0) this.#entries = this.#entries.slice(drop);
    let released = 0;
    while (released < this.#held.length && this.#bytes < this.#limitBytes) {
      const bytes = this.#held[released++]!;
      this.#heldBytes -= bytes.length;
      this.#keep(bytes);
      this.#release(bytes);
    }
    if (released > 0) this.#held = this.#held.slice(released);
    if (!this.isFull) this.#wake();
  }

  /** Frees everything (the connection is over). */
  clear(): void {
    this.#budget.release(this.#bytes + this.#heldBytes);
    this.#entries = [];
    this.#held = [];
    this.#bytes = 0;
    this.#heldBytes = 0;
    this.#wake();
  }

  #keep(bytes: Uint8Array): void {
    this.#entries.push({ sequenceId: ++this.#lastSequenceId, bytes });
    this.#bytes += bytes.length;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
