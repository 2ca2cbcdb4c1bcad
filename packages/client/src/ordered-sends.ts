/**
 * Stateful reconnect's sends, in order or not at all. The server numbers what it receives by
 * arrival, so after a failed send nothing later may get through on the same link: over HTTP a
 * later POST could, and would take the failed one's place. Sends wait for the ones before them to
 * be answered (those queued meanwhile go out together, and share a POST), and after a failure
 * every send fails until {@link OrderedSends.restart}, when the transport is re-attached and the
 * replay sends the failed messages again.
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

  constructor(transmit: (data: string | Uint8Array) => Promise<void>) {
    this.#transmit = transmit;
  }

  /** Resolves once `data` was sent; rejects with its failure, or the one that halted the sends. */
  send(data: string | Uint8Array): Promise<void> {
    if (this.#halted !== undefined) return Promise.reject(this.#halted);
    if (this.#waiting === undefined) {
      const waiting: Array<string | Uint8Array> = (this.#waiting = []);
      this.#sent = this.#previous.then(async () => {
        this.#waiting = undefined;
        if (this.#halted !== undefined) throw this.#halted;
        // Handed to the transport in one turn: over HTTP they go out in one POST.
        await Promise.all(waiting.map((part) => this.#transmit(part)));
      });
      this.#previous = this.#sent.catch((error: unknown) => {
        this.#halted ??= error instanceof Error ? error : new Error(String(error));
      });
    }
    this.#waiting.push(data);
    return this.#sent;
  }

  /** Takes sends again: the transport was re-attached. */
  restart(): void {
    this.#halted = undefined;
  }
}
