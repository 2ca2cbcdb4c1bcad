/**
 * The default lifetime manager: every connection of the hub in this process.
 *
 * @module
 */
import type { InvocationMessage } from "@hubwire/protocol";
import type { ClientResultOptions } from "./clients.js";
import { UnknownConnectionError } from "./errors.js";
import type { HubLifetimeManager, LocalMembership, ManagedConnection, SendTarget } from "./lifetime-manager.js";
import type { Logger } from "./logger.js";
import { type HubPresence, PresenceMap } from "./presence.js";
import { SerializedMessage } from "./serialized-message.js";

/**
 * Holds connections, groups and users in maps. Group names are case-sensitive. A message to many
 * connections is encoded once per protocol.
 *
 * @example
 * ```ts
 * const manager = new MemoryLifetimeManager();
 * await manager.send({ kind: "all" }, { type: 1, target: "tick", arguments: [Date.now()] });
 * ```
 */
export class MemoryLifetimeManager implements HubLifetimeManager {
  readonly #connections = new Map<string, ManagedConnection>();
  readonly #groups = new Map<string, Set<ManagedConnection>>();
  readonly #users = new Map<string, Set<ManagedConnection>>();
  /** The groups of each connection, to leave them all on disconnect. */
  readonly #membership = new Map<ManagedConnection, Set<string>>();
  readonly #presence: PresenceMap | undefined;

  /**
   * `logger`: where a presence listener's failure is logged (the hub server passes its own);
   * `tracksPresence: false` for a manager inside a backplane that keeps presence across nodes itself.
   */
  constructor(options: { readonly logger?: Logger; readonly tracksPresence?: boolean } = {}) {
    this.#presence = options.tracksPresence === false ? undefined : new PresenceMap("local", options.logger);
  }

  /** Who is online in this process, with events (presence.ts); undefined when it does not track presence. */
  get presence(): HubPresence | undefined {
    return this.#presence;
  }

  /** How many connections are held (for tests and metrics). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** How many groups have members (for tests and metrics). */
  get groupCount(): number {
    return this.#groups.size;
  }

  async onConnected(connection: ManagedConnection): Promise<void> {
    this.#connections.set(connection.connectionId, connection);
    if (connection.userId !== undefined) addTo(this.#users, connection.userId, connection);
    this.#presence?.connect("local", connection.connectionId, connection.userId ?? null);
  }

  async onDisconnected(connection: ManagedConnection): Promise<void> {
    if (this.#connections.get(connection.connectionId) !== connection) return;
    this.#connections.delete(connection.connectionId);
    if (connection.userId !== undefined) removeFrom(this.#users, connection.userId, connection);
    for (const group of this.#membership.get(connection) ?? []) removeFrom(this.#groups, group, connection);
    this.#membership.delete(connection);
    this.#presence?.disconnect("local", connection.connectionId);
  }

  async send(target: SendTarget, message: InvocationMessage): Promise<void> {
    const serialized = new SerializedMessage(message);
    let waits: Array<void | Promise<void>> | undefined;
    for (const connection of this.resolve(target)) {
      const wait = connection.write(serialized);
      if (wait !== undefined) (waits ??= []).push(wait);
    }
    // Only connections whose replay buffers are full hold the sender back.
    if (waits !== undefined) await Promise.all(waits);
  }

  /** The local connections a target names, each once. */
  resolve(target: SendTarget): Iterable<ManagedConnection> {
    switch (target.kind) {
      case "all":
        return excluding(this.#connections.values(), target.excludedConnectionIds);
      case "connections":
        return unique(target.connectionIds.map((id) => this.#connections.get(id)));
      case "groups":
        return excluding(unique(target.groups.flatMap((group) => [...(this.#groups.get(group) ?? [])])), target.excludedConnectionIds);
      case "users":
        return unique(target.userIds.flatMap((userId) => [...(this.#users.get(userId) ?? [])]));
    }
  }

  /** The local connection with this id, if this manager holds it. */
  get(connectionId: string): ManagedConnection | undefined {
    return this.#connections.get(connectionId);
  }

  /** How many local connections are in a group (a backplane subscribes while it is above 0). */
  memberCount(group: string): number {
    return this.#groups.get(group)?.size ?? 0;
  }

  /** How many local connections a user has. */
  userConnectionCount(userId: string): number {
    return this.#users.get(userId)?.size ?? 0;
  }

  /** The groups a local connection is in. */
  groupsOf(connection: ManagedConnection): readonly string[] {
    return [...(this.#membership.get(connection) ?? [])];
  }

  /** The groups of this process's connections, for inspection. */
  localMembership(): LocalMembership {
    return {
      groupsOf: (connectionId) => {
        const connection = this.#connections.get(connectionId);
        return connection === undefined ? [] : this.groupsOf(connection);
      },
      groups: () => [...this.#groups].map(([name, members]) => ({ name, size: members.size })),
    };
  }

  async addToGroup(connectionId: string, group: string): Promise<void> {
    const connection = this.#require(connectionId);
    addTo(this.#groups, group, connection);
    let groups = this.#membership.get(connection);
    if (groups === undefined) this.#membership.set(connection, (groups = new Set()));
    groups.add(group);
    this.#presence?.join("local", connectionId, group);
  }

  async removeFromGroup(connectionId: string, group: string): Promise<void> {
    const connection = this.#require(connectionId);
    removeFrom(this.#groups, group, connection);
    this.#membership.get(connection)?.delete(group);
    this.#presence?.leave("local", connectionId, group);
  }

  async invokeConnection(connectionId: string, method: string, args: readonly unknown[], options: ClientResultOptions): Promise<unknown> {
    return this.#require(connectionId).invokeClient(method, args, options);
  }

  async close(): Promise<void> {
    this.#connections.clear();
    this.#groups.clear();
    this.#users.clear();
    this.#membership.clear();
    this.#presence?.clear();
  }

  #require(connectionId: string): ManagedConnection {
    const connection = this.#connections.get(connectionId);
    if (connection === undefined) throw new UnknownConnectionError(connectionId);
    return connection;
  }
}

function addTo<T>(map: Map<string, Set<T>>, key: string, value: T): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<T>(map: Map<string, Set<T>>, key: string, value: T): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

function* unique(connections: Iterable<ManagedConnection | undefined>): Iterable<ManagedConnection> {
  const seen = new Set<ManagedConnection>();
  for (const connection of connections) {
    if (connection === undefined || seen.has(connection)) continue;
    seen.add(connection);
    yield connection;
  }
}

function* excluding(connections: Iterable<ManagedConnection>, excluded: readonly string[] | undefined): Iterable<ManagedConnection> {
  if (excluded === undefined || excluded.length === 0) return yield* connections;
  const skip = new Set(excluded);
  for (const connection of connections) if (!skip.has(connection.connectionId)) yield connection;
}
