/**
 * The {@link HubCallContext} a hub method and the lifecycle hooks receive. One per connection,
 * kept for its life: its parts are read from the connection when asked for, through getters on
 * the prototype, so an idle connection pays for one small object (an object literal with getters
 * cost about 1.3 KiB per connection in closures and property storage).
 *
 * @module
 */
import type { ClientMethods, HubContract } from "@hubwire/protocol";
import { type CallerClients, type ClientResultOptions, createCallerClients, type HubClients, type InvokeClient } from "./clients.js";
import type { ConnectionRequest, Principal } from "./connection-request.js";
import type { GroupManager, HubCallContext } from "./hub.js";
import type { ConnectionTransport, HubConnectionContext } from "./hub-connection-context.js";
import type { HubLifetimeManager } from "./lifetime-manager.js";
import type { HubPresence } from "./presence.js";

/** What every context of one hub shares. */
export interface CallContextShared {
  readonly clients: HubClients<ClientMethods<HubContract>>;
  readonly groups: GroupManager;
  readonly manager: HubLifetimeManager;
  readonly resultOptions: ClientResultOptions;
  /** How client results are awaited (traced by the hub). */
  readonly invokeClient?: InvokeClient;
}

/**
 * A connection's call context. `abort` and `close` are getters returning functions, so that
 * `({ close }) => close()` keeps working as it does with SignalR's context object.
 *
 * @example
 * ```ts
 * const context = new CallContext(connection, shared);
 * await hub.onConnected?.(context);
 * ```
 */
export class CallContext implements HubCallContext {
  readonly #connection: HubConnectionContext;
  readonly #shared: CallContextShared;
  readonly #signal: AbortSignal | undefined;
  #clients: CallerClients<ClientMethods<HubContract>> | undefined;

  /** `signal` replaces the connection's (a stream's own, which also ends with the connection). */
  constructor(connection: HubConnectionContext, shared: CallContextShared, signal?: AbortSignal) {
    this.#connection = connection;
    this.#shared = shared;
    this.#signal = signal;
  }

  /** The same context with another signal, for one streaming call. */
  withSignal(signal: AbortSignal): CallContext {
    const context = new CallContext(this.#connection, this.#shared, signal);
    context.#clients = this.#clients;
    return context;
  }

  get connectionId(): string {
    return this.#connection.connectionId;
  }

  get userId(): string | undefined {
    return this.#connection.userId;
  }

  get principal(): Principal | undefined {
    return this.#connection.principal;
  }

  get items(): Map<unknown, unknown> {
    return this.#connection.items;
  }

  get signal(): AbortSignal {
    return this.#signal ?? this.#connection.signal;
  }

  get request(): ConnectionRequest | undefined {
    return this.#connection.request;
  }

  get transport(): ConnectionTransport {
    // Set by the handshake, before any hook or call can see the context.
    return this.#connection.connectedOver!;
  }

  /** Made on first use: most connections never send from a call, and idle ones are the many. */
  get clients(): CallerClients<ClientMethods<HubContract>> {
    const shared = this.#shared;
    return (this.#clients ??= createCallerClients(shared.clients, shared.manager, this.#connection.connectionId, shared.resultOptions, shared.invokeClient));
  }

  get presence(): HubPresence {
    const presence = this.#shared.manager.presence;
    if (presence === undefined) throw new TypeError("This hub's lifetime manager does not track presence.");
    return presence;
  }

  get groups(): GroupManager {
    return this.#shared.groups;
  }

  get abort(): () => void {
    const connection = this.#connection;
    return () => connection.abort();
  }

  get close(): (options?: { readonly error?: string; readonly allowReconnect?: boolean }) => void {
    const connection = this.#connection;
    return (options) => connection.close(options ?? {});
  }
}
