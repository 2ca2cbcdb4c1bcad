/**
 * The seam between hubs and where their connections live. The in-memory manager holds every
 * connection of one process; a backplane (`@hubwire/redis`) implements the same interface to act
 * as one hub across processes. One contract suite runs against every implementation.
 *
 * @module
 * @example
 * ```ts
 * import { createHubServer, MemoryLifetimeManager } from "@hubwire/server";
 *
 * createHubServer({ hubs: { "/chat": chat }, lifetimeManager: () => new MemoryLifetimeManager() });
 * ```
 */
import type { InvocationMessage } from "@hubwire/protocol";
import type { ClientResultOptions } from "./clients.js";
import type { ConnectionRouting } from "./connection-routing.js";
import type { GatheredAnswers, GroupReport, InspectionRequest, NodeInspector } from "./inspection.js";
import type { HubPresence } from "./presence.js";
import type { SerializedMessage } from "./serialized-message.js";

/** Who a message goes to. */
export type SendTarget =
  | { readonly kind: "all"; readonly excludedConnectionIds?: readonly string[] }
  | { readonly kind: "connections"; readonly connectionIds: readonly string[] }
  | { readonly kind: "groups"; readonly groups: readonly string[]; readonly excludedConnectionIds?: readonly string[] }
  | { readonly kind: "users"; readonly userIds: readonly string[] };

/** What a lifetime manager needs of a connection it holds. */
export interface ManagedConnection {
  readonly connectionId: string;
  readonly userId: string | undefined;
  /** The hub protocol it speaks (`json`, `messagepack`), so that a backplane encodes only what its nodes' connections read; none: any. */
  readonly protocol?: { readonly name: string } | undefined;
  /**
   * Writes a message that may be shared with other connections (encoded once per protocol). A
   * promise means the connection wants the sender to wait (its replay buffer is full).
   */
  write(message: SerializedMessage): void | Promise<void>;
  /** Calls a client method with an invocation id and resolves with the client's result. */
  invokeClient(method: string, args: readonly unknown[], options: ClientResultOptions): Promise<unknown>;
  /**
   * Ends the connection with a Close message (`allowReconnect`: the client should come back), as a
   * backplane does when it knows messages for the connection were lost. Every connection the
   * server registers has it; a test double may leave it out.
   */
  close?(options?: { error?: string; allowReconnect?: boolean }): void;
}

/** Holds a hub's connections, groups and users, and delivers messages to them. */
export interface HubLifetimeManager {
  /** A connection finished its handshake; from now on it can be addressed. */
  onConnected(connection: ManagedConnection): Promise<void>;
  /** A connection ended; it leaves every group. */
  onDisconnected(connection: ManagedConnection): Promise<void>;
  /** Delivers an invocation to every connection the target names, once each. */
  send(target: SendTarget, message: InvocationMessage): Promise<void>;
  /** Adds a connection (wherever it lives) to a group. Rejects for an unknown connection. */
  addToGroup(connectionId: string, group: string): Promise<void>;
  /** Removes a connection from a group. Rejects for an unknown connection. */
  removeFromGroup(connectionId: string, group: string): Promise<void>;
  /** Awaits a client result from one connection, wherever it lives. */
  invokeConnection(connectionId: string, method: string, args: readonly unknown[], options: ClientResultOptions): Promise<unknown>;
  /** Releases what the manager holds (subscriptions, timers). */
  close(): Promise<void>;

  // Inspection (inspection.ts). Optional: a manager without them is inspected on this node alone.
  /** This node's id among the hub's nodes. */
  readonly nodeId?: string;
  /** The groups of the connections this node holds. */
  localMembership?(): LocalMembership;
  /** How this node answers other nodes' inspections and disconnects; the hub endpoint gives it once. */
  serveInspection?(inspector: NodeInspector): void;
  /** Every node's answer (this one's through its inspector) within `timeoutMs`, and the nodes that did not answer. */
  inspectNodes?(request: InspectionRequest, timeoutMs: number): Promise<GatheredAnswers>;
  /** Ends a connection another node holds; rejects with UnknownConnectionError if none does. */
  disconnectConnection?(connectionId: string): Promise<void>;

  /**
   * How requests for a connection another node holds reach it (connection-routing.ts): a backplane
   * that offers it lets any node serve any request, so no load balancer needs sticky sessions.
   */
  readonly routing?: ConnectionRouting;

  /** Who is online on every node the manager serves, with events (presence.ts). Optional: `hubContext(hub).presence` throws without it. */
  readonly presence?: HubPresence;
}

/** The groups of the connections one node holds. */
export interface LocalMembership {
  groupsOf(connectionId: string): readonly string[];
  /** Every group with members on this node, and how many. */
  groups(): Iterable<GroupReport>;
}
