/**
 * How a call's answer travels in a socket.io acknowledgement, both ways: a result as the ack's
 * argument, a failure as `{ error: text }` (an object with that one key, the text a SignalR client
 * would get). The same shape answers a hub method a socket.io client called and a client result
 * the hub awaits from a socket.io client.
 *
 * @module
 */

/** A failed call, as the acknowledgement carries it. */
export interface CallError {
  /** What a SignalR client would read in the Completion's `error`. */
  readonly error: string;
}

/**
 * Whether an acknowledgement's argument is a failure: an object whose only key is `error`, a
 * string. A hub method should not return that shape as a result.
 *
 * @example
 * ```ts
 * const answer = await socket.emitWithAck("add", 1, 2);
 * if (isCallError(answer)) console.error(answer.error);
 * else console.log(answer); // 3
 * ```
 */
export function isCallError(value: unknown): value is CallError {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === "error" && typeof (value as { error: unknown }).error === "string";
}

/** A client's acknowledgement as the hub's answer to a client result. */
export function answerOf(response: unknown): { readonly result: unknown } | { readonly error: string } {
  return isCallError(response) ? { error: response.error } : { result: response };
}
