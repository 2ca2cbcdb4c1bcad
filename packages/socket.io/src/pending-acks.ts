/**
 * The acknowledgements of a socket's calls still running, under the invocation ids the hub
 * answers them by. The hub answers a connection's calls mostly in the order they came (one at a
 * time unless `maxParallelInvocationsPerClient` allows more), so they are kept in arrival order and
 * the oldest is checked first: answering costs no hashing and no lookup in the usual case, and a
 * search through the calls in flight when a later call finishes first.
 *
 * @module
 */

/** A socket.io acknowledgement: the function socket.io passes as an event's last argument. */
export type Ack = (...args: unknown[]) => void;

/**
 * Acknowledgements by invocation id, in arrival order.
 *
 * @example
 * ```ts
 * const acks = new PendingAcks();
 * const id = acks.add(ack); // "0"
 * acks.take(id)?.(result);  // the ack, once; undefined for an unknown or answered id
 * ```
 */
export class PendingAcks {
  readonly #ids: string[] = [];
  readonly #acks: Ack[] = [];
  #nextId = 0;

  /** How many calls await their answer. */
  get size(): number {
    return this.#ids.length;
  }

  /** Keeps an acknowledgement; the id under which the hub answers it. */
  add(ack: Ack): string {
    const id = String(this.#nextId++);
    this.#ids.push(id);
    this.#acks.push(ack);
    return id;
  }

  /** The acknowledgement kept under `id`, forgotten as it is given; undefined when there is none. */
  take(id: string): Ack | undefined {
    const ids = this.#ids;
    if (ids.length === 0) return undefined;
    if (ids[0] === id) {
      ids.shift();
      return this.#acks.shift();
    }
    const index = ids.indexOf(id);
    if (index === -1) return undefined;
    ids.splice(index, 1);
    return this.#acks.splice(index, 1)[0];
  }

  /** Forgets them all (the connection ended: there is no one left to answer). */
  clear(): void {
    this.#ids.length = 0;
    this.#acks.length = 0;
  }
}
