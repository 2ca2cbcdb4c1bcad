/** The inbox hub: authenticated users send each other messages; admins announce to everyone. */
import { defineHub, type HubCallContext, HubError } from "@hubwire/server";
import type { Inbox } from "./contract.js";

/** The caller's user id. Never anonymous: the hub requires authentication (401 at negotiate without a token). */
const callerOf = (ctx: HubCallContext<Inbox>): string => ctx.userId!;

function checkText(text: string): void {
  if (text.length === 0 || text.length > 500) throw new HubError("A message is 1 to 500 characters.");
}

export const inbox = defineHub<Inbox>({
  methods: {
    whoAmI: (ctx) => callerOf(ctx),
    sendToUser: {
      args: ["string", "string"],
      async handler(ctx, user, text) {
        checkText(text);
        // Every connection of that user (several tabs, several devices), whatever their ids.
        await ctx.clients.user(user).receive(callerOf(ctx), text);
      },
    },
    announce: {
      args: ["string"],
      // Checked before the handler runs; a refusal answers SignalR's "user is unauthorized" error.
      authorize: (ctx) => ctx.principal?.claims?.["role"] === "admin",
      async handler(ctx, text) {
        checkText(text);
        await ctx.clients.all.announcement(callerOf(ctx), text);
      },
    },
  },
  // No principal (no token, or one that does not verify): 401 at negotiate and at connect.
  options: { requireAuthentication: true },
});
