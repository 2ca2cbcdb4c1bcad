/**
 * What the admin page and its hub say to each other: the page asks, the hub answers from
 * `hubs.inspect(hub)` for the hub the page names. Shared by `admin-hub.ts` and `page/main.ts`.
 *
 * @module
 */
import type { HubContract } from "@hubwire/protocol";
import type { ConnectionReport, GroupReport, NodeSummary, Page, PageQuery } from "@hubwire/server";

/** Every node's summary, and the nodes alive that did not answer in time. */
export interface NodesAnswer {
  readonly nodes: readonly NodeSummary[];
  readonly unanswered: readonly string[];
}

export interface AdminContract extends HubContract {
  server: {
    /** The names of the hubs the page may show, in the order the app gave them. */
    hubs(): string[];
    nodes(hub: string): NodesAnswer;
    connections(hub: string, query: PageQuery): Page<ConnectionReport>;
    groups(hub: string, query: PageQuery): Page<GroupReport>;
    disconnect(hub: string, connectionId: string): void;
    removeFromGroup(hub: string, connectionId: string, group: string): void;
  };
  client: Record<string, never>;
}
