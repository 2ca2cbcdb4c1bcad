/**
 * Stateful reconnect's sends, in order or not at all. The server numbers what it receives by
 * arrival, so after a failed send nothing later may get through on the same link: over HTTP a
 * later POST could, and would take the failed one's place. Sends wait for the ones before them to
 * be answered (those queued meanwhile go out together, and share a POST), and after a failure
 * every send fails until {@link OrderedSends.restart}, when the transport is re-attached and the
 * replay sends the failed messages again. The new link's sends do not wait for the old link's:
 * those are given up (the replay carries their messages, and the server refuses a request of an
 * old link), so they settle without a failure, whatever becomes of them.
 *
 * Part of the `@hubwire/client/stateful-reconnect` entry point.
 *
 * @module
 */

/**
 * Sends through `transmit`, in order, halting at the first failure.
 *
 * @example
 * ```ts
 * const sends = new OrderedSends((data) => transport.send(data));
 * await Promise.all([sends.send("a\u001e"), sends.send("b\u001e")]);
 * sends.restart(); // after a re-attach
 * ```
 */
export class OrderedSends {
  readonly #transmit: (data: string | Uint8Array) => Promise<void>;
  /** The sends waiting for those before them, and the promise they share. */
  #waiting: Array<string | Uint8Array> | undefined;
  #sent: Promise<void> = Promise.resolve();
  /** Settles when every send handed out so far has been answered. */
  #previous: Promise<unknown> = Promise.resolve();
  #halted: Error | undefined;
  /** Counts restarts: a send handed out before the last one belongs to a link given up. */
  #link = 0;

  constructor(transmit: (data: string | Uint8Array) => Promise<void>) {
    this.#transmit = transmit;
  }

  /** Resolves once `data` was sent; rejects with its failure, or the one that halted the sends. */
  send(data: string | Uint8Array): Promise<void> {
    if (this.#halted !== undefined) return Promise.reject(this.#halted);
    if (this.#waiting === undefined) {
      const waiting: Array<string | Uint8Array> = (this.#waiting = []);
      const link = this.#link;
      this.#sent = this.#previous.then(async () => {
        if (this.#waiting === waiting) this.#waiting = undefined;
        if (link !== this.#link) return;
        if (this.#halted !== undefined) throw this.#halted;
        try {
          // Handed to the transport in one turn: over HTTP they go out in one POST.
          await Promise.all(waiting.map((part) => this.#transmit(part)));
        } catch (error) {
          if (link === this.#link) throw error;
        }
      });
      this.#previous = this.#sent.catch((error: unknown) => {
        if (link === this.#link) this.#halted ??= error instanceof Error ? error : new Error(String(error));
      });
    }
    this.#waiting.push(data);
    return this.#sent;
  }

  /** Takes sends again, on a new link: the transport was re-attached. */
  restart(): void {
    this.#halted = undefined;
    this.#link++;
    this.#waiting = undefined;
    this.#previous = Promise.resolve();
  }
}
