/**
 * A kept connection's writes, in order, each trackable message held back until it is stored
 * (connection-keeping.ts): the client must never hold a sequence number that the node taking the
 * connection over would not know of. A message that needs no storing (a Ping, an Ack, a Close)
 * waits behind those before it, so nothing overtakes.
 *
 * @module
 */

/**
 * @example
 * ```ts
 * const writes = new StoredWrites((bytes) => transport.send(bytes));
 * writes.add(completion, 7); // waits
 * writes.add(ping);          // waits behind it
 * writes.stored(7);          // both are written, in order
 * ```
 */
export class StoredWrites {
  readonly #write: (bytes: Uint8Array) => void;
  /** Waiting messages and the sequence id each needs stored (0: none). */
  #queue: Array<{ readonly bytes: Uint8Array; readonly sequenceId: number }> = [];
  #storedThrough = 0;

  constructor(write: (bytes: Uint8Array) => void) {
    this.#write = write;
  }

  /** Writes `bytes` once message `sequenceId` (0: none) and everything before it is stored. */
  add(bytes: Uint8Array, sequenceId = 0): void {
    if (this.#queue.length === 0 && sequenceId <= this.#storedThrough) return this.#write(bytes);
    this.#queue.push({ bytes, sequenceId });
  }

  /** Messages through `sequenceId` are stored (stores complete in order). */
  stored(sequenceId: number): void {
    if (sequenceId > this.#storedThrough) this.#storedThrough = sequenceId;
    let written = 0;
    while (written < this.#queue.length && this.#queue[written]!.sequenceId <= this.#storedThrough) this.#write(this.#queue[written++]!.bytes);
    if (written > 0) this.#queue = this.#queue.slice(written);
  }

  /** Writes everything that waits, stored or not (the connection is ending: there is nothing left to resume). */
  flush(): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const { bytes } of queue) this.#write(bytes);
  }

  /** Drops what waits (the transport is gone: what was trackable is replayed from the buffer). */
  discard(): void {
    this.#queue = [];
  }
}
