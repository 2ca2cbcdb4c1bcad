/**
 * The hub contract: one type that describes both sides of a hub, shared by the server
 * (`@hubwire/server`) and the client (`@hubwire/client`) so that a single `contract.ts` types
 * both ends. Types only: nothing here exists at run time.
 *
 * @module
 * @example
 * ```ts
 * import type { HubContract } from "@hubwire/protocol";
 *
 * export interface ChatContract extends HubContract {
 *   server: {
 *     send(room: string, text: string): void;   // fire-and-forget or awaited, no result
 *     add(a: number, b: number): number;        // a result
 *     history(room: string): AsyncIterable<string>; // a stream from the server
 *   };
 *   client: {
 *     receive(user: string, text: string): void; // the server calls it
 *     confirm(question: string): boolean;        // a client result the server awaits
 *   };
 * }
 * ```
 */

/** Methods as a map of names to function types. */
export type MethodMap = { readonly [name: string]: (...args: never[]) => unknown };

/** Both sides of a hub: the methods clients may call on the server, and those the server may call on clients. */
export interface HubContract {
  /** Methods a client may call. */
  readonly server: object;
  /** Methods the server may call on a client. */
  readonly client: object;
}

/** The method names of one side (string keys whose values are functions). */
export type MethodName<TSide> = {
  [K in keyof TSide]: K extends string ? (TSide[K] extends (...args: never[]) => unknown ? K : never) : never;
}[keyof TSide];

/** The parameters of one method. */
export type MethodArgs<TSide, K extends keyof TSide> = TSide[K] extends (...args: infer A) => unknown ? A : never;

/** What one method returns, unwrapped from a Promise. */
export type MethodResult<TSide, K extends keyof TSide> = TSide[K] extends (...args: never[]) => infer R ? Awaited<R> : never;

/** The item type of a method that returns an async iterable (a stream), or `never`. */
export type StreamItemOf<T> = T extends AsyncIterable<infer Item> ? Item : never;

/** The server methods of a contract. */
export type ServerMethods<TContract extends HubContract> = TContract["server"];

/** The client methods of a contract. */
export type ClientMethods<TContract extends HubContract> = TContract["client"];
