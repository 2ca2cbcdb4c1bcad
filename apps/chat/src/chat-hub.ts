/**
 * The chat hub: rooms are groups, a connection's name and rooms live in its items, history and
 * presence in a ChatStore (so they work across nodes with Redis).
 */
import { defineHub, type HubCallContext, HubError } from "@hubwire/server";
import type { ChatStore } from "./chat-store.js";
import type { ChatContract } from "./contract.js";

const MAX_TEXT = 500;
const NAME = /^[\p{L}\p{N} _.-]{1,32}$/u;

function rooms(ctx: HubCallContext<ChatContract>): Map<string, string> {
  let joined = ctx.items.get("rooms") as Map<string, string> | undefined;
  if (joined === undefined) ctx.items.set("rooms", (joined = new Map()));
  return joined;
}

function nameIn(ctx: HubCallContext<ChatContract>, room: string): string {
  const user = rooms(ctx).get(room);
  if (user === undefined) throw new HubError(`Join '${room}' first.`);
  return user;
}

export function createChatHub(store: ChatStore) {
  async function leave(ctx: HubCallContext<ChatContract>, room: string): Promise<void> {
    const user = rooms(ctx).get(room);
    if (user === undefined) return;
    rooms(ctx).delete(room);
    await store.exit(room, ctx.connectionId);
    await ctx.clients.othersInGroup(room).left(room, user);
    await ctx.groups.remove(ctx.connectionId, room).catch(() => undefined);
  }

  return defineHub<ChatContract>({
    name: "chat",
    methods: {
      join: {
        args: ["string", "string"],
        async handler(ctx, room, user) {
          if (!NAME.test(room) || !NAME.test(user)) throw new HubError("Room and name: 1 to 32 letters, digits, spaces, '.', '_' or '-'.");
          const present = await store.members(room);
          rooms(ctx).set(room, user);
          await ctx.groups.add(ctx.connectionId, room);
          await store.enter(room, ctx.connectionId, user);
          await ctx.clients.othersInGroup(room).joined(room, user);
          return present;
        },
      },
      leave: { args: ["string"], handler: (ctx, room) => leave(ctx, room) },
      send: {
        args: ["string", "string"],
        async handler(ctx, room, text) {
          const user = nameIn(ctx, room);
          if (text.trim() === "") return;
          if (text.length > MAX_TEXT) throw new HubError(`Messages are limited to ${MAX_TEXT} characters.`);
          const message = { room, user, text, at: Date.now() };
          await store.addMessage(message);
          await ctx.clients.group(room).message(message);
        },
      },
      typing: { args: ["string"], handler: (ctx, room) => ctx.clients.othersInGroup(room).typing(room, nameIn(ctx, room)) },
      who: { args: ["string"], handler: (_ctx, room) => store.members(room) },
      history: {
        args: ["string"],
        async *handler(_ctx, room) {
          yield* await store.history(room);
        },
      },
    },
    async onDisconnected(ctx) {
      for (const room of [...rooms(ctx).keys()]) await leave(ctx, room);
    },
  });
}
