/**
 * Defining a hub: the methods clients may call, lifecycle hooks, filters and options, all typed
 * by one contract that the client package shares.
 *
 * @module
 * @example
 * ```ts
 * import type { HubContract } from "@hubwire/protocol";
 * import { defineHub, HubError } from "@hubwire/server";
 *
 * interface Chat extends HubContract {
 *   server: { send(text: string): void; add(a: number, b: number): number };
 *   client: { receive(user: string, text: string): void };
 * }
 *
 * export const chat = defineHub<Chat>({
 *   methods: {
 *     async send(ctx, text) {
 *       if (text.length > 500) throw new HubError("Too long.");
 *       await ctx.clients.all.receive(ctx.userId ?? "anonymous", text);
 *     },
 *     add: { args: ["number", "number"], handler: (_ctx, a, b) => a + b },
 *   },
 *   onConnected: (ctx) => ctx.groups.add(ctx.connectionId, "lobby"),
 * });
 * ```
 */
import type { ClientMethods, HubContract, MethodArgs, MethodName, ServerMethods, StreamItemOf } from "@hubwire/protocol";
import type { CallerClients } from "./clients.js";
import type { ConnectionRequest, Principal } from "./connection-request.js";
import type { HubFilter } from "./filters.js";
import type { ConnectionTransport } from "./hub-connection-context.js";
import type { HubOptions } from "./hub-options.js";
import type { HubPresence } from "./presence.js";

/** A value or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** Adds and removes connections to and from groups (wherever those connections live). */
export interface GroupManager {
  add(connectionId: string, group: string): Promise<void>;
  remove(connectionId: string, group: string): Promise<void>;
}

/** What a hub method and the lifecycle hooks see: SignalR's `Context`, `Clients` and `Groups`. */
export interface HubCallContext<TContract extends HubContract = HubContract> {
  /** The public id other code addresses this connection by. */
  readonly connectionId: string;
  /** The user id from authentication, if any. */
  readonly userId: string | undefined;
  /** What authentication returned for this connection. */
  readonly principal: Principal | undefined;
  /** Per-connection state, kept for the connection's life. */
  readonly items: Map<unknown, unknown>;
  /** Aborted when the connection ends. */
  readonly signal: AbortSignal;
  /** The HTTP request that opened the connection (SignalR's `Context.GetHttpContext()`). */
  readonly request: ConnectionRequest | undefined;
  /**
   * The transport the connection uses (SignalR's `IHttpTransportFeature.TransportType`), or the
   * gateway that carries it (`"socket.io"` for a socket.io client, `@hubwire/socket.io`).
   */
  readonly transport: ConnectionTransport;
  /** Targets for calling client methods. */
  readonly clients: CallerClients<ClientMethods<TContract>>;
  /** Who is online on every node of the hub (presence.ts); throws when the lifetime manager does not track presence. */
  readonly presence: HubPresence;
  readonly groups: GroupManager;
  /** Ends the connection at once, without a Close message (SignalR's `Context.Abort()`). */
  abort(): void;
  /**
   * Ends the connection with a Close message. With `allowReconnect`, clients configured for
   * automatic reconnect start reconnecting; `error` is shown to the client as the reason.
   */
  close(options?: { readonly error?: string; readonly allowReconnect?: boolean }): void;
}

/** Implements one server method: the call context first, then the client's arguments. */
export type MethodImplementation<TContract extends HubContract, K extends MethodName<ServerMethods<TContract>>> = (
  ctx: HubCallContext<TContract>,
  ...args: MethodArgs<ServerMethods<TContract>, K>
) => MaybePromise<MethodReturn<TContract, K>>;

/** What a server method of the contract returns, unwrapped from a promise. */
type MethodReturn<TContract extends HubContract, K extends MethodName<ServerMethods<TContract>>> = Awaited<
  ServerMethods<TContract>[K] extends (...args: never[]) => infer R ? R : never
>;

/** Whether a contract method streams to its caller (returns an async iterable). */
type IsStreaming<TContract extends HubContract, K extends MethodName<ServerMethods<TContract>>> =
  MethodReturn<TContract, K> extends AsyncIterable<unknown> ? true : false;

/** Whether a contract method takes an upload stream (a parameter that is an async iterable). */
type TakesUploads<TContract extends HubContract, K extends MethodName<ServerMethods<TContract>>> = true extends UploadFlags<
  MethodArgs<ServerMethods<TContract>, K>
>[number]
  ? true
  : false;

/** `true` at each parameter that is an async iterable (a type parameter, so that tuples map to tuples). */
type UploadFlags<TArgs> = { [I in keyof TArgs]: TArgs[I] extends AsyncIterable<unknown> ? true : false };

/**
 * Checks one argument before the method runs. A type name (`"stream"` marks an upload stream's
 * position), a predicate, or any Standard Schema validator (zod, valibot, arktype...).
 */
export type ArgumentSpec = "string" | "number" | "boolean" | "object" | "array" | "any" | "stream" | ((value: unknown) => boolean) | StandardSchemaLike;

/** The spec of each parameter: `"stream"` exactly where the contract takes an upload stream. */
export type ArgumentSpecs<TArgs extends readonly unknown[]> = {
  readonly [I in keyof TArgs]: TArgs[I] extends AsyncIterable<unknown> ? "stream" : Exclude<ArgumentSpec, "stream">;
};

/** The part of the Standard Schema interface (standardschema.dev) that Hubwire uses. */
export interface StandardSchemaLike {
  readonly "~standard": {
    readonly validate: (value: unknown) => MaybePromise<{ readonly value?: unknown; readonly issues?: ReadonlyArray<{ readonly message: string }> }>;
  };
}

/** A method with options. */
export interface MethodDefinition<TContract extends HubContract, K extends MethodName<ServerMethods<TContract>>> {
  readonly handler: MethodImplementation<TContract, K>;
  /**
   * The parameters, one spec each. When given, the argument count must match it exactly and each
   * argument must pass its spec. Without it, the count must match the handler's own parameter
   * count (`handler.length - 1`): declare `args` for handlers with default or rest parameters.
   * A method that takes upload streams declares them here: `"stream"` marks where each goes.
   */
  readonly args?: ArgumentSpecs<MethodArgs<ServerMethods<TContract>, K>>;
  /**
   * The method streams its results to the caller (it returns an async iterable): clients call it
   * with a StreamInvocation (`stream()`), and an Invocation of it is refused, as a StreamInvocation
   * of any other method is. An `async function*` handler streams without saying so.
   */
  readonly stream?: IsStreaming<TContract, K> extends true ? true : false;
  /** Runs before the method; false refuses the call with SignalR's "unauthorized" error. */
  readonly authorize?: (ctx: HubCallContext<TContract>) => MaybePromise<boolean>;
}

/**
 * How a hub implements one contract method, declared as .NET reads it off a method's signature:
 * - a method that streams to its caller is an `async function*`, or a definition with `stream: true`;
 * - a method that takes upload streams is a definition whose `args` mark them `"stream"`;
 * - any other method is a function, or a definition.
 */
export type MethodEntry<TContract extends HubContract, K extends MethodName<ServerMethods<TContract>>> =
  TakesUploads<TContract, K> extends true
    ? KindOfDefinition<TContract, K> & { readonly args: ArgumentSpecs<MethodArgs<ServerMethods<TContract>, K>> }
    : IsStreaming<TContract, K> extends true
      ? StreamingImplementation<TContract, K> | KindOfDefinition<TContract, K>
      : MethodImplementation<TContract, K> | KindOfDefinition<TContract, K>;

/** A streaming method's handler as an async generator function. */
type StreamingImplementation<TContract extends HubContract, K extends MethodName<ServerMethods<TContract>>> = (
  ctx: HubCallContext<TContract>,
  ...args: MethodArgs<ServerMethods<TContract>, K>
) => AsyncGenerator<StreamItemOf<MethodReturn<TContract, K>>, unknown, undefined>;

/** A definition of the method's kind: a streaming one says so, unless its handler is an async generator. */
type KindOfDefinition<TContract extends HubContract, K extends MethodName<ServerMethods<TContract>>> =
  IsStreaming<TContract, K> extends true
    ?
        | (Omit<MethodDefinition<TContract, K>, "stream"> & { readonly stream: true })
        | (Omit<MethodDefinition<TContract, K>, "stream" | "handler"> & {
            readonly stream?: true;
            readonly handler: StreamingImplementation<TContract, K>;
          })
    : MethodDefinition<TContract, K>;

/** Everything a hub is made of. */
export interface HubDefinitionInput<TContract extends HubContract> {
  /** Names the hub in logs and backplane channels. Defaults to the path it is mounted at. */
  readonly name?: string;
  /** One entry per server method of the contract: a function, or a {@link MethodDefinition}. */
  readonly methods: {
    readonly [K in MethodName<ServerMethods<TContract>>]: MethodEntry<TContract, K>;
  };
  /** After the handshake, before any invocation runs. A throw closes the connection. */
  readonly onConnected?: (ctx: HubCallContext<TContract>) => MaybePromise<void>;
  /** After the connection ended; `error` is undefined for a clean close. */
  readonly onDisconnected?: (ctx: HubCallContext<TContract>, error: Error | undefined) => MaybePromise<void>;
  /** Filters around this hub's invocations and lifecycle, inside the server's. */
  readonly filters?: readonly HubFilter[];
  /** Options for this hub, over the server's defaults. */
  readonly options?: HubOptions;
  /** Hub-level authorization, checked at negotiate and connect: false answers 403. */
  readonly authorize?: (principal: Principal | undefined, request: ConnectionRequest) => MaybePromise<boolean>;
}

/** A hub method as the dispatcher uses it. */
export interface CompiledMethod {
  /** The name as the hub defines it. */
  readonly name: string;
  readonly handler: (ctx: HubCallContext, ...args: unknown[]) => unknown;
  readonly args: readonly ArgumentSpec[] | undefined;
  /** How many arguments a call must carry, streams included. */
  readonly parameterCount: number;
  /** How many of them are upload streams (`"stream"` in `args`). */
  readonly uploadCount: number;
  /** Whether it streams to its caller (declared, or an async generator function). */
  readonly isStreaming: boolean;
  readonly authorize: ((ctx: HubCallContext) => MaybePromise<boolean>) | undefined;
}

/** A defined hub, ready to mount. Opaque: create it with {@link defineHub}. */
export interface HubDefinition<TContract extends HubContract = HubContract> {
  readonly name: string | undefined;
  /** Methods by lower-cased name: calls match case-insensitively, as .NET does. */
  readonly methods: ReadonlyMap<string, CompiledMethod>;
  readonly onConnected: ((ctx: HubCallContext) => MaybePromise<void>) | undefined;
  readonly onDisconnected: ((ctx: HubCallContext, error: Error | undefined) => MaybePromise<void>) | undefined;
  readonly filters: readonly HubFilter[];
  readonly options: HubOptions;
  readonly authorize: ((principal: Principal | undefined, request: ConnectionRequest) => MaybePromise<boolean>) | undefined;
  /** Carries the contract type; never set. */
  readonly __contract?: TContract;
}

/**
 * Defines a hub typed by `TContract`. Every server method of the contract must be implemented;
 * method names that differ only in case are refused, since calls match case-insensitively.
 *
 * @example
 * ```ts
 * const counter = defineHub<Counter>({ methods: { increment: (ctx, by) => (total += by) } });
 * ```
 */
export function defineHub<TContract extends HubContract>(definition: HubDefinitionInput<TContract>): HubDefinition<TContract> {
  const methods = new Map<string, CompiledMethod>();
  for (const [name, entry] of Object.entries(definition.methods as Record<string, unknown>)) {
    const spec =
      typeof entry === "function"
        ? { handler: entry }
        : (entry as { handler?: unknown; args?: readonly ArgumentSpec[]; stream?: boolean; authorize?: unknown });
    if (typeof spec.handler !== "function") throw new TypeError(`Hub method '${name}' needs a handler function.`);
    const key = name.toLowerCase();
    const existing = methods.get(key);
    if (existing !== undefined) {
      throw new TypeError(`Hub methods '${existing.name}' and '${name}' differ only in case; calls match case-insensitively.`);
    }
    const handler = spec.handler as CompiledMethod["handler"];
    const isAsyncGenerator = Object.prototype.toString.call(handler) === "[object AsyncGeneratorFunction]";
    if (spec.stream === false && isAsyncGenerator) {
      throw new TypeError(`Hub method '${name}' is an async generator function but says stream: false.`);
    }
    methods.set(key, {
      name,
      handler,
      args: spec.args,
      parameterCount: spec.args?.length ?? Math.max(0, handler.length - 1),
      uploadCount: spec.args?.filter((arg) => arg === "stream").length ?? 0,
      isStreaming: spec.stream === true || isAsyncGenerator,
      authorize: spec.authorize as CompiledMethod["authorize"],
    });
  }
  return {
    name: definition.name,
    methods,
    onConnected: definition.onConnected as HubDefinition["onConnected"],
    onDisconnected: definition.onDisconnected as HubDefinition["onDisconnected"],
    filters: definition.filters ?? [],
    options: definition.options ?? {},
    authorize: definition.authorize,
  };
}
