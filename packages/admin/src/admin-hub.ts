/**
 * The admin page's own hub: each method reads or acts through the inspection of the hub the page
 * names (`hubs.inspect(hub)`). Connections to it pass the app's `authorize` first.
 *
 * @module
 * @example
 * ```ts
 * const hub = adminHub({ chat }, () => hubs, authorize);
 * ```
 */
import { defineHub, type HubDefinition, HubError, type HubInspection, type HubServerCore, type Principal } from "@hubwire/server";
import type { AdminContract } from "./admin-contract.js";
import type { AdminAuthorize, ShownHub } from "./admin-options.js";

/**
 * The hub behind the page, over `shown` (by the names the page lists).
 *
 * @example
 * ```ts
 * const hub = adminHub({ chat }, () => server, () => true);
 * ```
 */
export function adminHub(
  shown: Readonly<Record<string, ShownHub>>,
  server: () => Pick<HubServerCore, "inspect"> | undefined,
  authorize: AdminAuthorize,
): HubDefinition<AdminContract> {
  const inspect = (name: string): HubInspection => {
    const hub = shown[name];
    if (hub === undefined) throw new HubError(`There is no hub '${name}' on this admin page.`);
    const hubs = server();
    if (hubs === undefined) throw new HubError("The admin page is not attached to a hub server yet: call admin.attach(hubs).");
    return hubs.inspect(hub);
  };
  return defineHub<AdminContract>({
    name: "HubwireAdmin",
    authorize: (principal: Principal | undefined, request) => authorize({ headers: request.headers, principal }),
    methods: {
      hubs: () => Object.keys(shown),
      nodes: (_ctx, hub) => inspect(hub).nodes(),
      connections: (_ctx, hub, query) => inspect(hub).connections(query),
      groups: (_ctx, hub, query) => inspect(hub).groups(query),
      disconnect: (_ctx, hub, connectionId) => inspect(hub).disconnect(connectionId),
      removeFromGroup: (_ctx, hub, connectionId, group) => inspect(hub).removeFromGroup(connectionId, group),
    },
  });
}
