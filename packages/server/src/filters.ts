/**
 * Hub filters: middleware around every invocation and around connect and disconnect, as
 * SignalR's `IHubFilter`. Server filters wrap hub filters; each calls `next()` to go on.
 *
 * @module
 * @example
 * ```ts
 * const timing: HubFilter = {
 *   async invoke(invocation, next) {
 *     const started = performance.now();
 *     try {
 *       return await next();
 *     } finally {
 *       metrics.record(invocation.method, performance.now() - started);
 *     }
 *   },
 * };
 * createHubServer({ hubs: { "/chat": chat }, filters: [timing] });
 * ```
 */
import type { HubCallContext } from "./hub.js";

/** One call of a hub method, as a filter sees it. */
export interface HubInvocation {
  /** The hub's name. */
  readonly hub: string;
  /** The method's name as the hub defines it. */
  readonly method: string;
  /** The arguments after binding (upload streams as async iterables). */
  readonly args: readonly unknown[];
  readonly context: HubCallContext;
}

/** Middleware around invocations and lifecycle. Every member is optional. */
export interface HubFilter {
  /** Wraps a method call. Return `next()`'s value, another value, or throw. */
  invoke?(invocation: HubInvocation, next: () => Promise<unknown>): Promise<unknown>;
  /** Wraps `onConnected`. */
  onConnected?(context: HubCallContext, next: () => Promise<void>): Promise<void>;
  /** Wraps `onDisconnected`. */
  onDisconnected?(context: HubCallContext, error: Error | undefined, next: () => Promise<void>): Promise<void>;
}

/** Runs `last` inside every filter that has `step`, the first filter outermost. */
export function runFilters<T>(
  filters: readonly HubFilter[],
  step: (filter: HubFilter, next: () => Promise<T>) => Promise<T> | undefined,
  last: () => Promise<T>,
): Promise<T> {
  const at = (index: number): Promise<T> => {
    for (let i = index; i < filters.length; i++) {
      const result = step(filters[i]!, () => at(i + 1));
      if (result !== undefined) return result;
    }
    return last();
  };
  return at(0);
}
