/**
 * The error texts a hub writes into Completions and Close messages, word for word as ASP.NET
 * Core's `DefaultHubDispatcher` and `ErrorMessageHelper` write them: clients and the apps on top
 * of them match on these strings (`HubException:` above all). One table, so that each can be
 * checked against .NET's in one place.
 *
 * @module
 * @example
 * ```ts
 * const text = describeError(ErrorTexts.invocationFailed("send"), error, options.enableDetailedErrors);
 * connection.send({ type: MessageType.Completion, invocationId, error: text });
 * ```
 */
import { isHubError } from "./errors.js";

export const ErrorTexts = {
  /** A call that cannot be bound: an unknown method, wrong arguments, a payload the protocol refused. */
  bindingFailed: (target: string) => `Failed to invoke '${target}' due to an error on the server.`,
  /** The reason added to {@link ErrorTexts.bindingFailed} for a method the hub does not have. */
  methodDoesNotExist: "Method does not exist.",
  /** A StreamInvocation of a method that does not stream. */
  nonStreamingCalledAsStream: (target: string) => `The client attempted to invoke the non-streaming '${target}' method with a streaming invocation.`,
  /** An Invocation of a method that streams. */
  streamingCalledAsInvocation: (target: string) => `The client attempted to invoke the streaming '${target}' method with a non-streaming invocation.`,
  /** The method's own `authorize` refused the caller. */
  unauthorized: (target: string) => `Failed to invoke '${target}' because user is unauthorized`,
  /** The method (or a filter around it) threw, or its result could not be written. */
  invocationFailed: (target: string) => `An unexpected error occurred invoking '${target}' on the server.`,
  /** The reason added to {@link ErrorTexts.invocationFailed} when the upload streams do not fit. */
  streamCountMismatch: (sent: number, expected: number) => `Client sent ${sent} stream(s), Hub method expects ${expected}.`,
  /** A StreamInvocation whose id names a stream already in progress. */
  invocationIdInUse: (invocationId: string) => `Invocation ID '${invocationId}' is already in use.`,
  /** A method that streams returned something else. */
  streamingMethodReturnedNoStream: (method: string) => `The value returned by the streaming method '${method}' is not an async iterable.`,
  /** An upload's item could not be read: the upload ends with this error (the client is told nothing). */
  streamBindingFailed: "Failed to bind Stream message.",
  /** A server-to-client stream failed after it started. */
  streamingFailed: "An error occurred on the server while streaming results.",
  /** A connection ended for an error (bad input, a failed `onConnected`). */
  connectionClosedWithError: "Connection closed with an error.",
  /**
   * A call whose node died before it answered, failed by the node that resumed its connection
   * (connection-keeping.ts). Hubwire's own: .NET cannot resume a connection on another node.
   */
  callLostWithNode: "The server that ran this call stopped before it answered: the call may or may not have run. Call it again if that is safe.",
  /** Binding found an argument of the wrong type. */
  argumentTypesMismatch: "Error binding arguments. Make sure that the types of the provided values match the types of the hub method being invoked.",
  /** Binding found the wrong number of arguments. */
  argumentCountMismatch: (given: number, expected: number) => `Invocation provides ${given} argument(s) but target expects ${expected}.`,
} as const;

/**
 * ASP.NET's `ErrorMessageHelper.BuildErrorMessage`: `generic`, then the error's type and message
 * when it is a `HubError` (always meant for the caller) or detailed errors are on.
 *
 * @example
 * ```ts
 * describeError("An unexpected error occurred invoking 'send' on the server.", new HubError("Too long."), false);
 * // "An unexpected error occurred invoking 'send' on the server. HubException: Too long."
 * ```
 */
export function describeError(generic: string, error: Error, enableDetailedErrors: boolean): string {
  if (isHubError(error)) return `${generic} HubException: ${error.message}`;
  return enableDetailedErrors ? `${generic} ${error.name}: ${error.message}` : generic;
}
