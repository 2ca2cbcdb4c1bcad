/**
 * The hub the client script talks to: ASP.NET Core's ChatHub tutorial, plus the streaming
 * article's Counter and UploadStream, written in Hubwire. Method names are camelCase here and
 * PascalCase in the client: calls and client methods match case-insensitively, as on ASP.NET Core.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { defineHub, type HubContract, HubError } from "@hubwire/server";

export interface ChatHub extends HubContract {
  server: {
    sendMessage(user: string, message: string): void;
    add(a: number, b: number): number;
    /** Streams 0 to count - 1, one every delayMs (the streaming article's Counter). */
    counter(count: number, delayMs: number): AsyncIterable<number>;
    /** Reads a client's upload stream to its end; answers how many items came. */
    uploadStream(lines: AsyncIterable<string>): number;
    /** Drops the caller's connection, as a network failure or a restarted server would (.NET's Context.Abort()). */
    simulateDrop(): void;
  };
  client: {
    receiveMessage(user: string, message: string): void;
  };
}

export const chatHub = defineHub<ChatHub>({
  methods: {
    sendMessage: {
      args: ["string", "string"],
      async handler(ctx, user, message) {
        if (message.trim() === "") throw new HubError("Message is empty.");
        await ctx.clients.all.receiveMessage(user, message);
      },
    },
    add: { args: ["number", "number"], handler: (_ctx, a, b) => a + b },
    async *counter(ctx, count, delayMs) {
      for (let i = 0; i < count && !ctx.signal.aborted; i++) {
        yield i;
        await sleep(delayMs, undefined, { signal: ctx.signal }).catch(() => undefined);
      }
    },
    uploadStream: {
      args: ["stream"],
      async handler(_ctx, lines) {
        let count = 0;
        for await (const _line of lines) count++;
        return count;
      },
    },
    simulateDrop: (ctx) => ctx.abort(),
  },
});
