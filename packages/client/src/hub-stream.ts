/**
 * A server stream as the caller reads it: an async iterable that queues items as they arrive and
 * hands them out in order, then ends, or throws the stream's error, after the last one. Leaving
 * the loop early, or `cancel()`, cancels the stream.
 *
 * @module
 * @example
 * ```ts
 * const [stream, pending] = readStream<number>(() => sendCancelInvocation(id));
 * pendingInvocations.add(id, pending);
 * for await (const item of stream) console.log(item);
 * ```
 */
import type { Pending } from "./pending-invocations.js";

/** Items from a server stream. Breaking out of `for await`, or `cancel()`, cancels it on the server. */
export interface HubStream<T> extends AsyncIterable<T> {
  cancel(): void;
}

/**
 * A stream to hand to the caller, and the pending entry through which the server fills it.
 * `cancelled` runs once, when the caller cancels before the stream has ended.
 *
 * @example
 * ```ts
 * const [stream, pending] = readStream<string>(() => console.log("cancelled"));
 * pending.item?.("a");
 * pending.settle();
 * for await (const line of stream) console.log(line); // "a"
 * ```
 */
export function readStream<T>(cancelled: () => void): [HubStream<T>, Pending] {
  const items: T[] = [];
  let ended: { error?: Error } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const cancel = () => {
    if (ended !== undefined) return;
    ended = {};
    notify();
    cancelled();
  };
  const iterator: AsyncIterator<T> = {
    next: async () => {
      while (items.length === 0 && ended === undefined) await new Promise<void>((resolve) => (wake = resolve));
      if (items.length > 0) return { value: items.shift()!, done: false };
      if (ended?.error !== undefined) throw ended.error;
      return { value: undefined, done: true };
    },
    return: async () => (cancel(), { value: undefined, done: true }),
  };
  return [
    { cancel, [Symbol.asyncIterator]: () => iterator },
    {
      item: (value) => (items.push(value as T), notify()),
      settle: (error) => ((ended = error ? { error } : {}), notify()),
    },
  ];
}
