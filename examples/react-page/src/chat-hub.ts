/** The hub behind the React page: everyone connected sees every message. */
import { defineHub, HubError } from "@hubwire/server";
import type { Chat } from "./contract.js";

let lastId = 0;

export const chat = defineHub<Chat>({
  methods: {
    send: {
      args: ["string", "string"],
      async handler(ctx, user, text) {
        if (user.trim() === "" || user.length > 32) throw new HubError("A name is 1 to 32 characters.");
        if (text.trim() === "" || text.length > 500) throw new HubError("A message is 1 to 500 characters.");
        await ctx.clients.all.receive({ id: ++lastId, user, text, at: Date.now() });
      },
    },
  },
});
