/**
 * The calls waiting for the server, by invocation id: invocations waiting for their Completion,
 * and streams for their items and their end. Each ends exactly once: with its result, the server's
 * error, the connection's close, its timeout or its AbortSignal, whichever comes first.
 *
 * @module
 * @example
 * ```ts
 * const pending = new PendingInvocations();
 * const result = pending.call("add", { timeoutMs: 5_000 }, (register) => sendInvocation(register));
 * transport.onreceive = (message) => pending.receive(message); // StreamItem and Completion
 * ```
 */
import { type CompletionMessage, MessageType, type StreamItemMessage } from "@hubwire/protocol";
import { ConnectionClosedError, HubError, TimeoutError } from "./errors.js";
import { type HubStream, readStream } from "./hub-stream.js";

/** Per-call options of `invokeWith` and `streamWith`. */
export interface CallOptions {
  /** Reject (and for a stream, cancel it) when this aborts. */
  readonly signal?: AbortSignal;
  /** Reject when no result came within this long. */
  readonly timeoutMs?: number;
}

/** One call waiting for the server. */
export interface Pending {
  /** Ends the call: with `error`, or with `value` as its result. */
  settle(error?: Error, value?: unknown): void;
  /** An item of a stream. */
  item?: (value: unknown) => void;
}

/** Sends a call, registering its invocation id (with `register`) before it goes out. */
export type SendCall = (register: (invocationId: string) => void) => Promise<void>;

/**
 * The calls of one connection that wait for the server.
 *
 * @example
 * ```ts
 * const pending = new PendingInvocations();
 * const sum = pending.call<number>("add", {}, (register) => send({ type: 1, invocationId: (register("0"), "0"), target: "add", arguments: [1, 2] }));
 * pending.receive({ type: 3, invocationId: "0", result: 3 }); // sum resolves with 3
 * ```
 */
export class PendingInvocations {
  readonly #calls = new Map<string, Pending>();

  /**
   * Sends an invocation with `send` and waits for its Completion. Rejects with HubError for the
   * server's error, TimeoutError after `timeoutMs`, an Error when `signal` aborts, or what `send`
   * rejects with.
   */
  call<T>(target: string, options: CallOptions, send: SendCall): Promise<T> {
    const { signal, timeoutMs } = options;
    return new Promise((resolve, reject) => {
      let id: string | undefined;
      const settle = (error?: Error, value?: unknown) => {
        if (id !== undefined) this.#calls.delete(id);
        clearTimeout(timer);
        signal?.removeEventListener("abort", abort);
        if (error) reject(error);
        else resolve(value as T);
      };
      const abort = () => settle(new Error(`The call of '${target}' was aborted.`));
      const timer =
        timeoutMs === undefined ? undefined : setTimeout(() => settle(new TimeoutError(`No result for '${target}' within ${timeoutMs} ms.`)), timeoutMs);
      if (signal?.aborted) return abort();
      signal?.addEventListener("abort", abort, { once: true });
      send((invocationId) => this.#calls.set((id = invocationId), { settle })).catch(settle);
    });
  }

  /**
   * Sends a stream invocation with `send` and returns the stream its items arrive in; it ends with
   * the Completion, the server's error, the connection's close or what `send` rejects with.
   * `cancelled` gets the id of a stream that the caller (or `signal`) cancels before its end.
   */
  stream<T>(options: CallOptions, send: SendCall, cancelled: (invocationId: string) => void): HubStream<T> {
    let id = "";
    const [stream, pending] = readStream<T>(() => {
      this.#calls.delete(id);
      cancelled(id);
    });
    options.signal?.addEventListener("abort", stream.cancel, { once: true });
    send((invocationId) => this.#calls.set((id = invocationId), pending)).catch((error: Error) =>
      id === "" ? pending.settle(error) : this.#settle(id, error),
    );
    return stream;
  }

  /** Hands a stream item to its stream, and a Completion to its call; ignores ids nobody waits for. */
  receive(message: StreamItemMessage | CompletionMessage): void {
    if (message.type === MessageType.StreamItem) return this.#calls.get(message.invocationId)?.item?.(message.item);
    // A JSON server may write null for an absent field.
    this.#settle(message.invocationId, message.error == null ? undefined : new HubError(message.error), message.result);
  }

  /** The connection closed: every waiting call rejects with ConnectionClosedError, giving `reason`. */
  close(reason: Error | undefined): void {
    for (const id of [...this.#calls.keys()]) this.#settle(id, new ConnectionClosedError(`The connection closed${reason ? `: ${reason.message}` : "."}`));
  }

  /** Ends the call `invocationId` with `error` or `value`, if it is still waiting. */
  #settle(invocationId: string, error?: Error, value?: unknown): void {
    const pending = this.#calls.get(invocationId);
    // Out of the map first: a call ends once, whatever comes for it later.
    this.#calls.delete(invocationId);
    pending?.settle(error, value);
  }
}
