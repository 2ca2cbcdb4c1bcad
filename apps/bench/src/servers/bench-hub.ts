/**
 * The bench hub's definition, shared by Hubwire's server on Node and on Bun so that both runtimes
 * run the same hub code; each server passes it to its own runtime entry's `defineHub`.
 */
import type { HubDefinitionInput } from "@hubwire/server";
import type { BenchContract } from "../bench-contract.js";

export const benchHub: HubDefinitionInput<BenchContract> = {
  methods: {
    echo: (_ctx, payload) => payload,
    broadcast: (ctx, payload) => ctx.clients.all.message(payload),
    join: (ctx, group) => ctx.groups.add(ctx.connectionId, group),
    relay: (ctx, group, payload) => ctx.clients.group(group).message(payload),
  },
};
