/**
 * Sends over HTTP in order, one POST at a time, as SignalR's `TransportSendQueue` does: what is
 * sent while a POST is in flight goes out together in the next one. Two POSTs in flight at once
 * could arrive in either order (and, behind a load balancer, at different nodes).
 *
 * @module
 */

type Waiter = readonly [resolve: () => void, reject: (error: unknown) => void];

/**
 * @example
 * ```ts
 * const queue = new SendQueue((data) => post(http, "LongPolling", url, data));
 * await Promise.all([queue.send("a\u001e"), queue.send("b\u001e")]); // one POST, then one with both
 * ```
 */
export class SendQueue {
  readonly #transmit: (data: string | Uint8Array) => Promise<void>;
  #parts: Array<string | Uint8Array> = [];
  #waiters: Waiter[] = [];
  #sending = false;

  constructor(transmit: (data: string | Uint8Array) => Promise<void>) {
    this.#transmit = transmit;
  }

  /** Resolves once the POST that carried `data` was answered; rejects with that POST's failure. */
  send(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#parts.push(data);
      this.#waiters.push([resolve, reject]);
      if (!this.#sending) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#sending = true;
    while (this.#parts.length > 0) {
      const parts = this.#parts;
      const waiters = this.#waiters;
      this.#parts = [];
      this.#waiters = [];
      try {
        await this.#transmit(joined(parts));
        for (const [resolve] of waiters) resolve();
      } catch (error) {
        for (const [, reject] of waiters) reject(error);
      }
    }
    this.#sending = false;
  }
}

/** The parts as one body: text joined, bytes concatenated (a connection sends one kind). */
function joined(parts: Array<string | Uint8Array>): string | Uint8Array {
  if (parts.length === 1 || typeof parts[0] === "string") return parts.length === 1 ? parts[0]! : parts.join("");
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + (part as Uint8Array).byteLength, 0));
  let at = 0;
  for (const part of parts as Uint8Array[]) {
    bytes.set(part, at);
    at += part.byteLength;
  }
  return bytes;
}
