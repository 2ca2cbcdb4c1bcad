/**
 * Presence: who is online across every node of a hub, a user's connections, a group's members,
 * and events when a user comes online (their first connection arrives, anywhere) or goes offline
 * (their last one leaves, anywhere, or its node dies). A lifetime manager keeps a
 * {@link PresenceMap} of every node's connections: the in-memory manager of its own, the Redis
 * backplane of every node's, replicated through Redis.
 *
 * @module
 * @example
 * ```ts
 * const presence = hubs.hubContext(chat).presence;
 * presence.onUserOnline(({ userId }) => console.log(`${userId} is here`));
 * console.log(presence.users(), presence.groupMembers("lobby"));
 * ```
 */
import { type Logger, silentLogger } from "./logger.js";

/** A user came online or went offline. */
export interface PresenceChange {
  readonly userId: string;
  /** The node whose connection made the change (the one that died, for a node that stopped answering). */
  readonly nodeId: string;
  /**
   * Whether it happened on this node: listeners run on every node, so act on `local` changes to
   * act once (a user whose node died goes offline with `local` false everywhere).
   */
  readonly local: boolean;
}

/** A member of a group, with the user it belongs to. */
export interface PresenceMember {
  readonly connectionId: string;
  readonly userId: string | null;
}

/**
 * Who is online across every node of a hub, read from this node's copy (no round trip): the
 * in-memory manager knows its own process, the Redis backplane every node's (a node that stops
 * answering is dropped within a few heartbeat intervals, docs/scaling.md).
 *
 * @example
 * ```ts
 * const presence = hubs.hubContext(chat).presence;
 * const stop = presence.onUserOffline(({ userId, local }) => local && notifyFriends(userId));
 * presence.isOnline("ada"); // true
 * presence.connectionsOf("ada"); // ["k3J...", "Qw9..."]
 * presence.groupCount("lobby"); // 12
 * ```
 */
export interface HubPresence {
  /** Users with at least one connection, on any node. */
  users(): string[];
  /** Whether a user has a connection, on any node. */
  isOnline(userId: string): boolean;
  /** A user's connection ids, on every node. */
  connectionsOf(userId: string): string[];
  /** How many connections are in a group, on every node. */
  groupCount(group: string): number;
  /** A group's connections and their users, on every node. */
  groupMembers(group: string): PresenceMember[];
  /** The users with a connection in a group, each once. */
  groupUsers(group: string): string[];
  /** Calls `listener` when a user's first connection arrives anywhere; returns a function that stops it. */
  onUserOnline(listener: (change: PresenceChange) => void): () => void;
  /** Calls `listener` when a user's last connection leaves anywhere (or its node dies); returns a function that stops it. */
  onUserOffline(listener: (change: PresenceChange) => void): () => void;
}

/** One connection as presence sees it. */
export interface PresenceEntry {
  readonly connectionId: string;
  readonly userId: string | null;
  readonly groups: readonly string[];
}

interface Held {
  readonly nodeId: string;
  readonly userId: string | null;
  readonly groups: Set<string>;
}

/**
 * Every node's connections, their users and groups, with the indexes presence reads. Changes come
 * per connection (from this node, or replicated from another) or per node (a node's snapshot, a
 * node dropped); a user's first and last connection raise the events.
 *
 * @example
 * ```ts
 * const map = new PresenceMap("node-a");
 * map.onUserOnline(({ userId }) => console.log(userId));
 * map.connect("node-a", "c1", "ada"); // logs "ada"
 * map.join("node-a", "c1", "lobby");
 * map.groupUsers("lobby"); // ["ada"]
 * map.dropNode("node-a"); // ada goes offline
 * ```
 */
export class PresenceMap implements HubPresence {
  readonly #nodeId: string;
  readonly #connections = new Map<string, Held>();
  readonly #byNode = new Map<string, Set<string>>();
  readonly #byUser = new Map<string, Set<string>>();
  readonly #byGroup = new Map<string, Set<string>>();
  readonly #online = new Set<(change: PresenceChange) => void>();
  readonly #offline = new Set<(change: PresenceChange) => void>();
  readonly #logger: Logger;

  /** `nodeId`: this node, whose changes are `local`; `logger`: where a listener's failure is logged. */
  constructor(nodeId: string, logger: Logger = silentLogger) {
    this.#nodeId = nodeId;
    this.#logger = logger;
  }

  // Reading.

  users(): string[] {
    return [...this.#byUser.keys()];
  }

  isOnline(userId: string): boolean {
    return this.#byUser.has(userId);
  }

  connectionsOf(userId: string): string[] {
    return [...(this.#byUser.get(userId) ?? [])];
  }

  groupCount(group: string): number {
    return this.#byGroup.get(group)?.size ?? 0;
  }

  groupMembers(group: string): PresenceMember[] {
    return [...(this.#byGroup.get(group) ?? [])].map((connectionId) => ({ connectionId, userId: this.#connections.get(connectionId)?.userId ?? null }));
  }

  groupUsers(group: string): string[] {
    const users = new Set<string>();
    for (const connectionId of this.#byGroup.get(group) ?? []) {
      const userId = this.#connections.get(connectionId)?.userId;
      if (userId !== null && userId !== undefined) users.add(userId);
    }
    return [...users];
  }

  onUserOnline(listener: (change: PresenceChange) => void): () => void {
    this.#online.add(listener);
    return () => void this.#online.delete(listener);
  }

  onUserOffline(listener: (change: PresenceChange) => void): () => void {
    this.#offline.add(listener);
    return () => void this.#offline.delete(listener);
  }

  /** The nodes with connections here. */
  nodes(): string[] {
    return [...this.#byNode.keys()];
  }

  /** One node's connections, as a snapshot sends them. */
  entriesOf(nodeId: string): PresenceEntry[] {
    return [...(this.#byNode.get(nodeId) ?? [])].map((connectionId) => {
      const held = this.#connections.get(connectionId)!;
      return { connectionId, userId: held.userId, groups: [...held.groups] };
    });
  }

  // Changing.

  connect(nodeId: string, connectionId: string, userId: string | null): void {
    if (this.#connections.has(connectionId)) this.disconnect(this.#connections.get(connectionId)!.nodeId, connectionId);
    this.#connections.set(connectionId, { nodeId, userId, groups: new Set() });
    add(this.#byNode, nodeId, connectionId);
    if (userId === null) return;
    const first = !this.#byUser.has(userId);
    add(this.#byUser, userId, connectionId);
    if (first) this.#emit(this.#online, userId, nodeId);
  }

  disconnect(nodeId: string, connectionId: string): void {
    const held = this.#connections.get(connectionId);
    if (held === undefined || held.nodeId !== nodeId) return;
    this.#connections.delete(connectionId);
    remove(this.#byNode, nodeId, connectionId);
    for (const group of held.groups) remove(this.#byGroup, group, connectionId);
    if (held.userId === null) return;
    remove(this.#byUser, held.userId, connectionId);
    if (!this.#byUser.has(held.userId)) this.#emit(this.#offline, held.userId, nodeId);
  }

  join(nodeId: string, connectionId: string, group: string): void {
    const held = this.#connections.get(connectionId);
    if (held === undefined || held.nodeId !== nodeId) return;
    held.groups.add(group);
    add(this.#byGroup, group, connectionId);
  }

  leave(nodeId: string, connectionId: string, group: string): void {
    const held = this.#connections.get(connectionId);
    if (held === undefined || held.nodeId !== nodeId) return;
    held.groups.delete(group);
    remove(this.#byGroup, group, connectionId);
  }

  /**
   * Replaces what is known of a node with its snapshot. Users it brings are connected before the
   * node's old connections go, so a user with connections in both never flickers offline.
   */
  replaceNode(nodeId: string, entries: readonly PresenceEntry[]): void {
    const stale = new Set(this.#byNode.get(nodeId) ?? []);
    for (const entry of entries) {
      stale.delete(entry.connectionId);
      const held = this.#connections.get(entry.connectionId);
      if (held === undefined || held.nodeId !== nodeId || held.userId !== entry.userId) this.connect(nodeId, entry.connectionId, entry.userId);
      const now = this.#connections.get(entry.connectionId)!;
      for (const group of [...now.groups]) if (!entry.groups.includes(group)) this.leave(nodeId, entry.connectionId, group);
      for (const group of entry.groups) this.join(nodeId, entry.connectionId, group);
    }
    for (const connectionId of stale) this.disconnect(nodeId, connectionId);
  }

  /** A node left or stopped answering: its connections go, and users with no other go offline. */
  dropNode(nodeId: string): void {
    for (const connectionId of [...(this.#byNode.get(nodeId) ?? [])]) this.disconnect(nodeId, connectionId);
  }

  /** Forgets everything, raising no events (the manager is closing). */
  clear(): void {
    for (const map of [this.#connections, this.#byNode, this.#byUser, this.#byGroup]) map.clear();
  }

  #emit(listeners: Set<(change: PresenceChange) => void>, userId: string, nodeId: string): void {
    const change: PresenceChange = { userId, nodeId, local: nodeId === this.#nodeId };
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch (error) {
        // A listener's failure is the application's: logged, and it stops neither the others nor the change.
        this.#logger.log("error", "A presence listener threw.", { userId, nodeId, error });
      }
    }
  }
}

function add(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(value);
}

function remove(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
