/**
 * The errors the server reports to application code, each with a stable `name` and `code` (from
 * the one table of codes, `ErrorCode` in `@hubwire/protocol`).
 *
 * @module
 */
import { ErrorCode } from "@hubwire/protocol";

/**
 * Thrown by a hub method, its message always reaches the client, as SignalR's `HubException`
 * does: the caller sees `An unexpected error occurred invoking '<method>' on the server.
 * HubException: <message>`. Any other error is reported with a generic text unless detailed
 * errors are on, so internals never leak by accident.
 *
 * @example
 * ```ts
 * import { HubError } from "@hubwire/server";
 *
 * if (text.length > 500) throw new HubError("Messages are limited to 500 characters.");
 * ```
 */
export class HubError extends Error {
  override readonly name = "HubError";
  readonly code = ErrorCode.HubError;
}

/**
 * True for a {@link HubError}, including one from another copy of this package (matched by name).
 *
 * @example
 * ```ts
 * const filter: HubFilter = {
 *   async invoke(invocation, next) {
 *     try {
 *       return await next();
 *     } catch (error) {
 *       if (!isHubError(error)) reportToErrorTracker(error); // HubErrors are meant for the caller
 *       throw error;
 *     }
 *   },
 * };
 * ```
 */
export function isHubError(error: unknown): error is HubError {
  return error instanceof HubError || (error instanceof Error && error.name === "HubError");
}

/**
 * A client answered a client-result invocation with an error, or could not answer: no handler,
 * a timeout, cancellation, or its connection closed.
 *
 * @example
 * ```ts
 * try {
 *   await ctx.clients.caller.invoke.confirm("Sure?");
 * } catch (error) {
 *   if (error instanceof ClientResultError) log.warn(error.message);
 * }
 * ```
 */
export class ClientResultError extends Error {
  override readonly name = "ClientResultError";
  readonly code = ErrorCode.ClientResultFailed;
}

/**
 * An operation named a connection that no node of the hub holds.
 *
 * @example
 * ```ts
 * try {
 *   await hubs.hubContext(chat).groups.add(connectionId, "support");
 * } catch (error) {
 *   if (error instanceof UnknownConnectionError) return; // it left meanwhile
 *   throw error;
 * }
 * ```
 */
export class UnknownConnectionError extends Error {
  override readonly name = "UnknownConnectionError";
  readonly code = ErrorCode.UnknownConnection;
  readonly connectionId: string;
  constructor(connectionId: string) {
    super(`No connection with the id '${connectionId}' is connected to this hub.`);
    this.connectionId = connectionId;
  }
}
