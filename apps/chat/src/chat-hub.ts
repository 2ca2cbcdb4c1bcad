/**
 * The chat hub: rooms are groups, a connection's name and rooms live in its items, history and
 * the names used in each room in a ChatStore (so they work across nodes with Redis). Who is in a
 * room is the hub's presence (`ctx.presence`): a node that dies takes its pages out of every
 * room within a few heartbeats, whatever its store entries say. Each page is told which node
 * serves it and whether Redis answers, when it connects and whenever that changes.
 *
 * What a caller reads when something fails: the hub's own refusals, and a store that failed or
 * did not answer in time, in the store's words (a HubError reaches the page; any other error
 * reaches it as SignalR's generic text).
 */
import { defineHub, type HubCallContext, HubError } from "@hubwire/server";
import type { ChatNode } from "./chat-node.js";
import { type ChatStore, isChatStoreError } from "./chat-store.js";
import type { ChatContract } from "./contract.js";

const MAX_TEXT = 500;
const NAME = /^[\p{L}\p{N} _.-]{1,32}$/u;

/** What the chat hub works with. */
export interface ChatHubOptions {
  readonly store: ChatStore;
  readonly node: ChatNode;
  /** Where failures that no caller hears of go (a page that left while Redis was away). */
  readonly log: (line: string) => void;
}

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

const hasName = (error: unknown, name: string) => error instanceof Error && error.name === name;

/** A store failure becomes a HubError with the store's words, for the page to show; the rest stays the server's. */
function forCaller(error: unknown): unknown {
  return isChatStoreError(error) ? new HubError(error.message) : error;
}

/**
 * Tells the others in a room. When Redis is away this reaches this node's pages only and rejects
 * with a BackplaneError; that is not the caller's failure (the join or leave itself went through),
 * and every page on this node is already showing that Redis is lost (the server logged it too).
 */
async function announce(sent: Promise<void>): Promise<void> {
  await sent.catch((error: unknown) => {
    if (!hasName(error, "BackplaneError")) throw error;
  });
}

/** Out of a room's group; a connection already gone is in no group any more. */
async function removeFromGroup(ctx: HubCallContext<ChatContract>, room: string): Promise<void> {
  await ctx.groups.remove(ctx.connectionId, room).catch((error: unknown) => {
    if (!hasName(error, "UnknownConnectionError")) throw error;
  });
}

/**
 * The chat hub on one node.
 *
 * @example
 * ```ts
 * const hub = createChatHub({ store: new MemoryChatStore(), node: new ChatNode("local"), log: console.error });
 * const hubs = createHubServer({ hubs: { "/chat": hub } });
 * ```
 */
export function createChatHub({ store, node, log }: ChatHubOptions) {
  /** This node's connections, to tell them when Redis is lost or back. */
  const pages = new Map<string, HubCallContext<ChatContract>>();
  node.onStatusChange((status) => {
    for (const ctx of pages.values()) {
      ctx.clients.caller
        .nodeStatus(status)
        .catch((error: Error) => log(`Could not tell page ${ctx.connectionId} that Redis is ${status.rooms === "redis" ? "back" : "lost"}: ${error.message}`));
    }
  });

  async function leave(ctx: HubCallContext<ChatContract>, room: string): Promise<void> {
    const user = rooms(ctx).get(room);
    if (user === undefined) return;
    rooms(ctx).delete(room);
    // Out of the group and announced first: whatever the store does, this page gets no more of the room.
    await removeFromGroup(ctx, room);
    await announce(ctx.clients.othersInGroup(room).left(room, user));
    await store.exit(room, ctx.connectionId);
  }

  /** The names of the connections in a room's group, on every node, as presence knows them. */
  function whoIsIn(ctx: HubCallContext<ChatContract>, room: string): Promise<string[]> {
    const here = ctx.presence.groupMembers(room).map((member) => member.connectionId);
    return store.names(room, here);
  }

  /** Undoes a join that failed half-way, so that the room does not count this page in. */
  async function forget(ctx: HubCallContext<ChatContract>, room: string): Promise<void> {
    rooms(ctx).delete(room);
    await removeFromGroup(ctx, room);
    // Not awaited: the join has failed already. If Redis answers late, this runs after the entry.
    store.exit(room, ctx.connectionId).catch((error: Error) => log(`A failed join of '${room}' may stay in its presence list: ${error.message}`));
  }

  return defineHub<ChatContract>({
    name: "chat",
    methods: {
      join: {
        args: ["string", "string"],
        async handler(ctx, room, user) {
          if (!NAME.test(room) || !NAME.test(user)) throw new HubError("Room and name: 1 to 32 letters, digits, spaces, '.', '_' or '-'.");
          const wasIn = rooms(ctx).has(room);
          try {
            const present = await whoIsIn(ctx, room);
            rooms(ctx).set(room, user);
            try {
              await ctx.groups.add(ctx.connectionId, room);
              await store.enter(room, ctx.connectionId, user);
            } catch (error) {
              if (!wasIn) await forget(ctx, room);
              throw error;
            }
            await announce(ctx.clients.othersInGroup(room).joined(room, user));
            return present;
          } catch (error) {
            throw forCaller(error);
          }
        },
      },
      leave: {
        args: ["string"],
        async handler(ctx, room) {
          await leave(ctx, room).catch((error: unknown) => {
            throw forCaller(error);
          });
        },
      },
      send: {
        args: ["string", "string"],
        async handler(ctx, room, text) {
          const user = nameIn(ctx, room);
          if (text.trim() === "") return;
          if (text.length > MAX_TEXT) throw new HubError(`Messages are limited to ${MAX_TEXT} characters.`);
          const message = { room, user, text, at: Date.now() };
          try {
            await store.addMessage(message);
            await ctx.clients.group(room).message(message);
          } catch (error) {
            if (hasName(error, "BackplaneError"))
              throw new HubError("Redis is unavailable: people on this server have your message, people on other servers may not.");
            throw forCaller(error);
          }
        },
      },
      typing: { args: ["string"], handler: (ctx, room) => ctx.clients.othersInGroup(room).typing(room, nameIn(ctx, room)) },
      who: {
        args: ["string"],
        handler: (ctx, room) =>
          whoIsIn(ctx, room).catch((error: unknown) => {
            throw forCaller(error);
          }),
      },
      history: {
        args: ["string"],
        async *handler(_ctx, room) {
          yield* await store.history(room).catch((error: unknown) => {
            throw forCaller(error);
          });
        },
      },
      recent: {
        args: ["string"],
        handler: (_ctx, room) =>
          store.history(room).catch((error: unknown) => {
            throw forCaller(error);
          }),
      },
    },
    async onConnected(ctx) {
      pages.set(ctx.connectionId, ctx);
      await ctx.clients.caller.nodeStatus(node.status);
    },
    async onDisconnected(ctx) {
      pages.delete(ctx.connectionId);
      for (const [room, user] of [...rooms(ctx)]) {
        // One room failing (Redis away) must not keep this connection in the others.
        await leave(ctx, room).catch((error: Error) => log(`${user} left '${room}', but its presence list may still show them: ${error.message}`));
      }
    },
  });
}
