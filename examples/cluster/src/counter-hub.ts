/** The example's hub: a shared counter per room, and which worker process answered. */
import { defineHub, type HubContract } from "@hubwire/server";

export interface Counter extends HubContract {
  server: {
    /** Joins a room and adds one to its count, which every member is told. */
    join(room: string): number;
    /** The process that ran the call. */
    worker(): number;
  };
  client: { counted(room: string, count: number): void };
}

const counts = new Map<string, number>();

export const counterHub = defineHub<Counter>({
  methods: {
    async join(ctx, room) {
      await ctx.groups.add(ctx.connectionId, room);
      // Per process: each worker counts the joins it served; every member hears each.
      const count = (counts.get(room) ?? 0) + 1;
      counts.set(room, count);
      await ctx.clients.group(room).counted(room, count);
      return count;
    },
    worker: () => process.pid,
  },
});
