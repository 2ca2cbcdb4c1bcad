/**
 * Typed proxies that call client methods: `clients.all.receive(user, text)`. Every property of
 * a proxy is a client method named after it; the contract's `client` side types the arguments.
 * Sends resolve once the message has been handed to the lifetime manager (locally: written to
 * each connection's transport; with a backplane: published).
 *
 * @module
 * @example
 * ```ts
 * await ctx.clients.group("room-1").receive("ada", "hello");
 * const ok = await ctx.clients.caller.invoke.confirm("Delete everything?"); // a client result
 * ```
 */
import { type InvocationMessage, MessageType, type MethodArgs, type MethodName, type MethodResult } from "@hubwire/protocol";
import type { HubLifetimeManager, SendTarget } from "./lifetime-manager.js";

/** Calls a client method on every connection the proxy addresses. */
export type ClientProxy<TClient> = {
  readonly [K in MethodName<TClient>]: (...args: MethodArgs<TClient, K>) => Promise<void>;
};

/** Client methods that return the client's result. */
export type ClientResultProxy<TClient> = {
  readonly [K in MethodName<TClient>]: (...args: MethodArgs<TClient, K>) => Promise<MethodResult<TClient, K>>;
};

/** A proxy for one connection: it can also await a client's result (`invoke`). */
export type SingleClientProxy<TClient> = ClientProxy<TClient> & {
  /** Calls a client method and waits for its result (SignalR's client results). */
  readonly invoke: ClientResultProxy<TClient>;
  /** As `invoke`, with a timeout or an AbortSignal for these calls. */
  invokeWith(options: ClientResultOptions): ClientResultProxy<TClient>;
};

/** The targets every sender has, inside a hub or outside it. */
export interface HubClients<TClient> {
  /** Every connection of the hub. */
  readonly all: ClientProxy<TClient>;
  /** Every connection except these ids. */
  allExcept(connectionIds: readonly string[]): ClientProxy<TClient>;
  /** One connection, by its public id. */
  client(connectionId: string): SingleClientProxy<TClient>;
  /** These connections. */
  clients(connectionIds: readonly string[]): ClientProxy<TClient>;
  /** Every member of a group. */
  group(name: string): ClientProxy<TClient>;
  /** Every member of any of these groups, once each. */
  groups(names: readonly string[]): ClientProxy<TClient>;
  /** A group's members except these connection ids. */
  groupExcept(name: string, connectionIds: readonly string[]): ClientProxy<TClient>;
  /** Every connection of a user. */
  user(userId: string): ClientProxy<TClient>;
  /** Every connection of these users. */
  users(userIds: readonly string[]): ClientProxy<TClient>;
}

/** Inside a hub method: the targets relative to the calling connection as well. */
export interface CallerClients<TClient> extends HubClients<TClient> {
  /** The connection that called. */
  readonly caller: SingleClientProxy<TClient>;
  /** Every connection but the caller. */
  readonly others: ClientProxy<TClient>;
  /** A group's members but the caller. */
  othersInGroup(name: string): ClientProxy<TClient>;
}

/** Options for awaiting client results. */
export interface ClientResultOptions {
  /** Reject when the client has not answered within this long. */
  readonly timeoutMs?: number;
  /** Reject when this aborts. */
  readonly signal?: AbortSignal;
}

function methodProxy<T extends object>(call: (method: string, args: unknown[]) => Promise<unknown>): T {
  return new Proxy(Object.create(null) as T, {
    get(_target, property) {
      // Not a client method: keeps `await proxy` and inspection from sending anything.
      if (typeof property !== "string" || property === "then") return undefined;
      return (...args: unknown[]) => call(property, args);
    },
  });
}

function sendProxy<TClient>(manager: HubLifetimeManager, target: SendTarget): ClientProxy<TClient> {
  return methodProxy<ClientProxy<TClient>>((method, args) => {
    const message: InvocationMessage = { type: MessageType.Invocation, target: method, arguments: args };
    return manager.send(target, message);
  });
}

/** How a client result is awaited: the lifetime manager's `invokeConnection`, or the hub's traced wrapper of it. */
export type InvokeClient = HubLifetimeManager["invokeConnection"];

function singleClientProxy<TClient>(
  manager: HubLifetimeManager,
  connectionId: string,
  resultOptions: ClientResultOptions,
  invokeClient: InvokeClient = (id, method, args, options) => manager.invokeConnection(id, method, args, options),
): SingleClientProxy<TClient> {
  const send = sendProxy<TClient>(manager, { kind: "connections", connectionIds: [connectionId] });
  const resultProxy = (options: ClientResultOptions) =>
    methodProxy<ClientResultProxy<TClient>>((method, args) => invokeClient(connectionId, method, args, options));
  const invoke = resultProxy(resultOptions);
  const invokeWith = (options: ClientResultOptions) => resultProxy({ ...resultOptions, ...options });
  return new Proxy(send, {
    get(target, property, receiver) {
      if (property === "invoke") return invoke;
      if (property === "invokeWith") return invokeWith;
      return Reflect.get(target, property, receiver);
    },
  }) as SingleClientProxy<TClient>;
}

/** Builds the targets for senders outside a hub (and the base of those inside one). */
export function createHubClients<TClient>(
  manager: HubLifetimeManager,
  resultOptions: ClientResultOptions = {},
  invokeClient?: InvokeClient,
): HubClients<TClient> {
  return {
    all: sendProxy(manager, { kind: "all" }),
    allExcept: (ids) => sendProxy(manager, { kind: "all", excludedConnectionIds: ids }),
    client: (id) => singleClientProxy(manager, id, resultOptions, invokeClient),
    clients: (ids) => sendProxy(manager, { kind: "connections", connectionIds: ids }),
    group: (name) => sendProxy(manager, { kind: "groups", groups: [name] }),
    groups: (names) => sendProxy(manager, { kind: "groups", groups: names }),
    groupExcept: (name, ids) => sendProxy(manager, { kind: "groups", groups: [name], excludedConnectionIds: ids }),
    user: (userId) => sendProxy(manager, { kind: "users", userIds: [userId] }),
    users: (userIds) => sendProxy(manager, { kind: "users", userIds }),
  };
}

/** Adds the caller-relative targets for the connection `callerId`. */
export function createCallerClients<TClient>(
  base: HubClients<TClient>,
  manager: HubLifetimeManager,
  callerId: string,
  resultOptions: ClientResultOptions = {},
  invokeClient?: InvokeClient,
): CallerClients<TClient> {
  return {
    ...base,
    caller: singleClientProxy(manager, callerId, resultOptions, invokeClient),
    others: sendProxy(manager, { kind: "all", excludedConnectionIds: [callerId] }),
    othersInGroup: (name) => sendProxy(manager, { kind: "groups", groups: [name], excludedConnectionIds: [callerId] }),
  };
}
