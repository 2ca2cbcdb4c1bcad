/**
 * A stream to the caller: the items of the async iterable a streaming method returned, each as a
 * StreamItem, then one Completion (with an error if the producer threw or an item could not be
 * written). Cancelled by the client's CancelInvocation (then it ends with a plain Completion, as
 * .NET's does) or the connection's end; either stops the producer.
 *
 * @module
 */
import { MessageType } from "@hubwire/protocol";
import { describeError, ErrorTexts } from "./error-texts.js";
import { isHubError } from "./errors.js";
import type { HubConnectionContext } from "./hub-connection-context.js";
import type { Logger } from "./logger.js";

/** Who streams, for the log lines of a failed stream. */
export interface StreamSource {
  readonly hub: string;
  readonly method: string;
  readonly logger: Logger;
  readonly enableDetailedErrors: boolean;
}

/**
 * Writes `items` to `connection` as the stream `invocationId`, until they end, fail, or
 * `signal` aborts. Resolves with the error the stream failed with, if it failed.
 *
 * @example
 * ```ts
 * void streamToCaller(connection, "3", method.handler(ctx, ...args), controller.signal, source);
 * ```
 */
export async function streamToCaller(
  connection: HubConnectionContext,
  invocationId: string,
  items: AsyncIterable<unknown>,
  signal: AbortSignal,
  source: StreamSource,
): Promise<Error | undefined> {
  const iterator = items[Symbol.asyncIterator]();
  const cancelled = new Promise<"cancelled">((resolve) => {
    if (signal.aborted) resolve("cancelled");
    signal.addEventListener("abort", () => resolve("cancelled"), { once: true });
  });
  let error: Error | undefined;
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), cancelled]);
      if (next === "cancelled" || next.done === true) break;
      // Throws when the item cannot be written: the stream ends with an error like any other.
      await connection.send({ type: MessageType.StreamItem, invocationId, item: next.value });
    }
  } catch (caught) {
    error = caught as Error;
  }
  if (signal.aborted || error !== undefined) {
    // Cancelled, ended with the connection, or failed: stop the producer.
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
  if (signal.aborted) {
    // Cancelled: .NET still ends the stream with a plain Completion (a closed connection sends nothing).
    connection.sendCompletion({ type: MessageType.Completion, invocationId });
    return undefined;
  }
  if (error !== undefined) {
    // A HubError is the method's message to its caller, not a fault of the server.
    source.logger.log(isHubError(error) ? "debug" : "error", "A stream to the caller failed.", {
      hub: source.hub,
      method: source.method,
      connectionId: connection.connectionId,
      invocationId,
      error,
    });
  }
  connection.sendCompletion(
    error === undefined
      ? { type: MessageType.Completion, invocationId }
      : { type: MessageType.Completion, invocationId, error: describeError(ErrorTexts.streamingFailed, error, source.enableDetailedErrors) },
  );
  return error;
}
