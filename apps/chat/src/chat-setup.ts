/**
 * What the chat sample's server is, whichever runtime serves it: the chat hub at /chat with its
 * store (in memory, or shared over Redis with the hub itself), and the page and its script.
 */
import type { HubServerOptions } from "@hubwire/server";
import { redisLifetimeManager } from "@hubwire/redis";
import { Redis } from "ioredis";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { createChatHub } from "./chat-hub.js";
import { MemoryChatStore, RedisChatStore } from "./chat-store.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

/** The hub server's options and the Redis clients they use (to disconnect at the end). */
export interface ChatSetup {
  readonly options: HubServerOptions;
  readonly redisClients: readonly Redis[];
}

/** The chat hub, in memory or over Redis at `redisUrl`. */
export function chatSetup(redisUrl: string | undefined): ChatSetup {
  const redis = redisUrl === undefined ? [] : [new Redis(redisUrl), new Redis(redisUrl), new Redis(redisUrl)];
  const [store, publisher, subscriber] = redis;
  const hub = createChatHub(store === undefined ? new MemoryChatStore() : new RedisChatStore(store));
  return {
    options: {
      hubs: { "/chat": hub },
      hubOptions: { allowStatefulReconnect: true },
      ...(publisher !== undefined && subscriber !== undefined ? { lifetimeManager: redisLifetimeManager({ publisher, subscriber, prefix: "hubwire-chat" }) } : {}),
    },
    redisClients: redis,
  };
}

/** An answer for one of the page's paths. */
export interface PageAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer | string;
}

/** Serves the page (`/`) and its script (`/app.js`); 404 for the rest. */
export async function chatPages(options: { readonly pageDir?: string | undefined; readonly scriptPath?: string | undefined } = {}): Promise<(path: string) => Promise<PageAnswer>> {
  const page = await readFile(options.pageDir ?? `${packageDir}public/index.html`);
  const script = options.scriptPath ?? `${packageDir}dist/public/app.js`;
  return async (path) => {
    if (path === "/" || path === "/index.html") return { status: 200, contentType: "text/html; charset=utf-8", body: page };
    if (path !== "/app.js") return { status: 404, contentType: "text/plain", body: "Not found" };
    // Read per request: a rebuilt script is served without a restart.
    const body = await readFile(script).catch(() => undefined);
    return body === undefined
      ? { status: 500, contentType: "text/plain", body: "The page script is not built: run npm run build." }
      : { status: 200, contentType: "text/javascript; charset=utf-8", body };
  };
}
