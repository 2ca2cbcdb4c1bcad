/**
 * Client results awaited by one connection (SignalR's `Clients.Client(id).InvokeAsync`): each
 * server-to-client Invocation with an id waits for the client's Completion, and ends exactly
 * once: with the client's result or error, on timeout, on cancellation, or when the connection
 * closes.
 *
 * @module
 */
import { type CompletionMessage, type HubMessage, isProtocolError, MessageType, type ProtocolError } from "@hubwire/protocol";
import type { ClientResultOptions } from "./clients.js";
import { ClientResultError } from "./errors.js";

interface PendingResult {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * The client results one connection awaits, by invocation id (`s0`, `s1`, ...).
 *
 * @example
 * ```ts
 * const results = new ClientResults();
 * const answer = results.invoke((message) => connection.send(message), "confirm", ["Sure?"], { timeoutMs: 5_000 });
 * results.complete("s0", { type: MessageType.Completion, invocationId: "s0", result: true }); // answer resolves with true
 * ```
 */
export class ClientResults {
  #pending: Map<string, PendingResult> | undefined;
  #nextId = 0;

  /** Sends the Invocation with `send` and waits for its Completion. */
  invoke(send: (message: HubMessage) => void, method: string, args: readonly unknown[], options: ClientResultOptions): Promise<unknown> {
    const invocationId = `s${this.#nextId++}`;
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        this.#pending?.delete(invocationId);
        if (timer !== undefined) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        cleanup();
        reject(new ClientResultError(`The client result for '${method}' was cancelled.`, { cause: options.signal?.reason }));
      };
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              cleanup();
              reject(new ClientResultError(`The client did not answer '${method}' within ${options.timeoutMs} ms.`));
            }, options.timeoutMs);
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      (this.#pending ??= new Map<string, PendingResult>()).set(invocationId, {
        resolve: (value) => (cleanup(), resolve(value)),
        reject: (error) => (cleanup(), reject(error)),
      });
      try {
        send({ type: MessageType.Invocation, invocationId, target: method, arguments: args });
      } catch (error) {
        // Arguments the protocol cannot write: the caller learns it at once.
        cleanup();
        reject(error);
      }
    });
  }

  /**
   * Settles the client result a Completion answers; false when none waits for it. A Completion
   * whose result could not be read (`ProtocolError`) rejects it.
   */
  complete(invocationId: string | undefined, answer: CompletionMessage | ProtocolError): boolean {
    const pending = invocationId === undefined ? undefined : this.#pending?.get(invocationId);
    if (pending === undefined) return false;
    if (isProtocolError(answer)) pending.reject(new ClientResultError(`The client's result could not be read: ${answer.message}`, { cause: answer }));
    else if (answer.error !== undefined) pending.reject(new ClientResultError(answer.error));
    else pending.resolve(answer.result);
    return true;
  }

  /** The connection closed: every result still awaited fails. */
  rejectAll(connectionId: string): void {
    for (const pending of [...(this.#pending?.values() ?? [])]) {
      pending.reject(new ClientResultError(`Connection '${connectionId}' closed before the client answered.`));
    }
  }
}
