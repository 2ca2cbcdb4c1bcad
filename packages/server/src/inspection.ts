/**
 * A window into a running hub, across its nodes: the nodes alive, each connection (user,
 * transport, protocol, since when, groups, messages and bytes both ways), the groups and their
 * sizes, message rates; and two actions, disconnecting a connection and removing it from a group.
 *
 * Each node answers for itself (`NodeInspector`, built by the hub endpoint). Through a backplane
 * that can ask the others (`HubLifetimeManager.inspectNodes`), one call gathers every node's
 * answer within a deadline; a node that does not answer in time is named in `unanswered`, not
 * waited for. Lists come in pages, sorted (connections by id, groups by name), each node sending
 * at most one page: what crosses the backplane is bounded by the page size, whatever the hub's.
 *
 * @module
 * @example
 * ```ts
 * const inspection = hubs.inspect(chat);
 * const { nodes } = await inspection.nodes();
 * const page = await inspection.connections({ limit: 50, search: "ada" });
 * await inspection.disconnect(page.connections[0]!.connectionId);
 * ```
 */
import { UnknownConnectionError } from "./errors.js";
import type { HubLifetimeManager } from "./lifetime-manager.js";

/** One connection as inspection shows it. */
export interface ConnectionReport {
  readonly connectionId: string;
  readonly userId: string | null;
  /** The node that holds it. */
  readonly nodeId: string;
  readonly transport: string;
  readonly protocol: string;
  /** When its handshake completed, in milliseconds since the epoch. */
  readonly connectedAt: number;
  readonly groups: readonly string[];
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** A group and how many connections it has (on one node, or across all). */
export interface GroupReport {
  readonly name: string;
  readonly size: number;
}

/** One node of the hub: its counts and message rates. */
export interface NodeSummary {
  readonly nodeId: string;
  readonly connections: number;
  /** Open connections by transport (`WebSockets`, `ServerSentEvents`, `LongPolling`). */
  readonly transports: Readonly<Record<string, number>>;
  readonly groups: number;
  /** Messages since the node started. */
  readonly messagesIn: number;
  readonly messagesOut: number;
  /** Messages per second between the node's last two readings (at least a second apart). */
  readonly messagesInPerSecond: number;
  readonly messagesOutPerSecond: number;
  /** Messages per second both ways, by transport, over the same interval. */
  readonly messagesPerSecondByTransport: Readonly<Record<string, number>>;
}

/** Which page of a list: items sorted, after `after`, at most `limit`, matching `search`. */
export interface PageQuery {
  /** The last item of the previous page (a connection id, a group name); none for the first page. */
  readonly after?: string;
  /** Default 50, at most 500. */
  readonly limit?: number;
  /** Keeps items whose id, user or name contains it (case-insensitive). */
  readonly search?: string;
}

/** What one inspection asks of every node. */
export interface InspectionRequest {
  readonly connections?: Required<Pick<PageQuery, "limit">> & PageQuery;
  readonly groups?: Required<Pick<PageQuery, "limit">> & PageQuery;
}

/** One node's answer. */
export interface NodeAnswer {
  readonly summary: NodeSummary;
  readonly connections: readonly ConnectionReport[];
  readonly groups: readonly GroupReport[];
}

/** How a node answers inspections and acts on its own connections. */
export interface NodeInspector {
  answer(request: InspectionRequest): NodeAnswer;
  /** Ends a connection this node holds (a Close with an error, without allowReconnect: the client does not come back by itself); false if it holds none of that id. */
  disconnect(connectionId: string): boolean;
}

/** Every node's answer gathered within the deadline, and the nodes that did not answer in time. */
export interface GatheredAnswers {
  readonly answers: readonly NodeAnswer[];
  readonly unanswered: readonly string[];
}

/** A page of a list across nodes. */
export interface Page<T> {
  readonly items: readonly T[];
  /** Pass as `after` for the next page; undefined on the last page. */
  readonly next: string | undefined;
  /** Nodes that did not answer in time: the page lacks what they hold. */
  readonly unanswered: readonly string[];
}

/** How long a node may take to answer, by default. */
const defaultTimeoutMs = 2_000;
const defaultLimit = 50;
const maxLimit = 500;

/**
 * Sorts, filters and pages one node's items: what a node sends for a page.
 *
 * @example
 * ```ts
 * pageOf(["c", "a", "b"], (id) => id, [], { limit: 2 }); // ["a", "b"]
 * ```
 */
export function pageOf<T>(items: Iterable<T>, key: (item: T) => string, searchable: (item: T) => readonly (string | null)[], query: PageQuery): T[] {
  const after = query.after;
  const search = query.search?.toLowerCase();
  const kept: T[] = [];
  for (const item of items) {
    const itemKey = key(item);
    if (after !== undefined && itemKey <= after) continue;
    if (search !== undefined && search !== "" && ![itemKey, ...searchable(item)].some((text) => text?.toLowerCase().includes(search))) continue;
    kept.push(item);
  }
  kept.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return kept.slice(0, limitOf(query));
}

function limitOf(query: PageQuery): number {
  return Math.max(1, Math.min(maxLimit, Math.floor(query.limit ?? defaultLimit)));
}

/**
 * A hub's inspection, through its lifetime manager when that can reach other nodes.
 *
 * @example
 * ```ts
 * const inspection = hubs.inspect(chat);
 * for (const node of (await inspection.nodes()).nodes) console.log(node.nodeId, node.connections);
 * ```
 */
export class HubInspection {
  readonly #local: NodeInspector;
  readonly #manager: HubLifetimeManager;
  readonly #timeoutMs: number;

  constructor(local: NodeInspector, manager: HubLifetimeManager, options: { readonly timeoutMs?: number } = {}) {
    this.#local = local;
    this.#manager = manager;
    this.#timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  }

  /** Every node that answered in time, with its counts and rates, and those that did not. */
  async nodes(): Promise<{ readonly nodes: readonly NodeSummary[]; readonly unanswered: readonly string[] }> {
    const { answers, unanswered } = await this.#gather({});
    return { nodes: answers.map((answer) => answer.summary).sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1)), unanswered };
  }

  /** A page of the hub's connections across nodes, sorted by id. */
  async connections(query: PageQuery = {}): Promise<Page<ConnectionReport>> {
    const limit = limitOf(query);
    const { answers, unanswered } = await this.#gather({ connections: { ...query, limit } });
    const all = answers.flatMap((answer) => answer.connections);
    const items = pageOf(
      all,
      (connection) => connection.connectionId,
      () => [],
      { limit },
    );
    // More may follow when some node sent a full page, or the nodes together sent more than one.
    const more = all.length > limit || answers.some((answer) => answer.connections.length === limit);
    return { items, next: more && items.length > 0 ? items.at(-1)!.connectionId : undefined, unanswered };
  }

  /** A page of the hub's groups across nodes, sorted by name, each with its size on every node together. */
  async groups(query: PageQuery = {}): Promise<Page<GroupReport>> {
    const limit = limitOf(query);
    const { answers, unanswered } = await this.#gather({ groups: { ...query, limit } });
    // A group's first page position is the same on each node that has it, so the sums are whole.
    const sizes = new Map<string, number>();
    for (const answer of answers) for (const group of answer.groups) sizes.set(group.name, (sizes.get(group.name) ?? 0) + group.size);
    const merged = [...sizes].map(([name, size]) => ({ name, size }));
    const items = pageOf(
      merged,
      (group) => group.name,
      () => [],
      { limit },
    );
    const more = merged.length > limit || answers.some((answer) => answer.groups.length === limit);
    return { items, next: more && items.length > 0 ? items.at(-1)!.name : undefined, unanswered };
  }

  /** Ends a connection wherever it lives (a Close with an error, without allowReconnect: an operator's kick is not undone by automatic reconnect). Rejects with UnknownConnectionError if no node holds it. */
  async disconnect(connectionId: string): Promise<void> {
    if (this.#local.disconnect(connectionId)) return;
    if (this.#manager.disconnectConnection === undefined) throw new UnknownConnectionError(connectionId);
    await this.#manager.disconnectConnection(connectionId);
  }

  /** Removes a connection from a group, wherever it lives. */
  removeFromGroup(connectionId: string, group: string): Promise<void> {
    return this.#manager.removeFromGroup(connectionId, group);
  }

  #gather(request: InspectionRequest): Promise<GatheredAnswers> {
    if (this.#manager.inspectNodes === undefined) return Promise.resolve({ answers: [this.#local.answer(request)], unanswered: [] });
    return this.#manager.inspectNodes(request, this.#timeoutMs);
  }
}
