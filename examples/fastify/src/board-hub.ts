/** The board hub: rooms (SignalR groups), posting to a room, and a stream to the caller. */
import { setTimeout as sleep } from "node:timers/promises";
import { defineHub, HubError } from "@hubwire/server";
import type { Board } from "./contract.js";

const roomPattern = /^[a-z0-9-]{1,32}$/;

function checkRoom(room: string): void {
  if (!roomPattern.test(room)) throw new HubError("A room is 1 to 32 lower-case letters, digits or '-'.");
}

export const board = defineHub<Board>({
  methods: {
    join: {
      args: ["string"],
      handler(ctx, room) {
        checkRoom(room);
        return ctx.groups.add(ctx.connectionId, room);
      },
    },
    leave: { args: ["string"], handler: (ctx, room) => ctx.groups.remove(ctx.connectionId, room) },
    post: {
      args: ["string", "string"],
      async handler(ctx, room, text) {
        checkRoom(room);
        if (text.length === 0 || text.length > 500) throw new HubError("A message is 1 to 500 characters.");
        await ctx.clients.group(room).receive(room, ctx.connectionId, text);
      },
    },
    // An async generator streams to the caller; ctx.signal aborts when the client cancels.
    async *countdown(ctx, from) {
      if (!Number.isInteger(from) || from < 0 || from > 100) throw new HubError("Count down from 0 to 100.");
      for (let n = from; n >= 0 && !ctx.signal.aborted; n--) {
        yield n;
        if (n > 0) await sleep(50, undefined, { signal: ctx.signal }).catch(() => undefined);
      }
    },
  },
});
