/**
 * A stream the client uploads as a hub method argument (`streamIds`): StreamItem messages with the
 * stream's id feed it, a Completion with that id ends it (with an error, if it carries one). The
 * hub method reads it as an async iterable. The buffer is bounded: at `capacity` items the
 * connection stops reading until the method catches up (SignalR's `StreamBufferCapacity`).
 *
 * @module
 */
import { HubError } from "./errors.js";

/**
 * One upload, read once by one consumer.
 *
 * @example
 * ```ts
 * upload: { args: ["string", "stream"], async handler(ctx, name, chunks: AsyncIterable<string>) {
 *   for await (const chunk of chunks) save(name, chunk);
 * } }
 * ```
 */
export class UploadStream implements AsyncIterable<unknown>, AsyncIterator<unknown> {
  readonly #capacity: number;
  readonly #setFull: (full: boolean) => void;
  #items: unknown[] = [];
  #ended = false;
  #error: Error | undefined;
  #full = false;
  #waiter: { resolve: (result: IteratorResult<unknown>) => void; reject: (error: Error) => void } | undefined;

  constructor(capacity: number, setFull: (full: boolean) => void) {
    this.#capacity = capacity;
    this.#setFull = setFull;
  }

  /** Whether the client has ended it (items may still be buffered). */
  get isEnded(): boolean {
    return this.#ended;
  }

  push(item: unknown): void {
    if (this.#ended) return;
    if (this.#waiter !== undefined) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.resolve({ value: item, done: false });
      return;
    }
    this.#items.push(item);
    this.#updateFull();
  }

  /**
   * The client ended the stream; `error` if it failed (the reader then throws a `HubError` with
   * that text). Buffered items are still delivered first.
   */
  complete(error?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    // A HubError, as .NET's reader throws a HubException: a method that lets it pass tells its
    // caller the client's own words.
    if (error !== undefined) this.#error = new HubError(error);
    if (this.#waiter !== undefined && this.#items.length === 0) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (this.#error !== undefined) waiter.reject(this.#error);
      else waiter.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.#items.length > 0) {
      const value = this.#items.shift();
      this.#updateFull();
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) return this.#error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(this.#error);
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  /** The consumer stopped early (or its invocation ended): later items are dropped. */
  return(): Promise<IteratorResult<unknown>> {
    this.discard();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Drops buffered and later items and releases the connection if this stream held it. */
  discard(): void {
    this.#ended = true;
    this.#items = [];
    this.#updateFull();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return this;
  }

  #updateFull(): void {
    const full = this.#items.length >= this.#capacity;
    if (full !== this.#full) {
      this.#full = full;
      this.#setFull(full);
    }
  }
}
