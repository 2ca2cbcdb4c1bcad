/**
 * What the chat sample's server is, whichever runtime serves it: the chat hub at /chat with its
 * store (in memory, or shared over Redis with the hub itself), and the page and its script.
 */

import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { redisLifetimeManager } from "@hubwire/redis";
import type { HubServerOptions } from "@hubwire/server";
import { Redis } from "ioredis";
import { createChatHub } from "./chat-hub.js";
import { MemoryChatStore, RedisChatStore } from "./chat-store.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

/** The hub server's options and the Redis clients they use (to disconnect at the end). */
export interface ChatSetup {
  /** The chat hub (mounted at /chat by `options`). */
  readonly hub: ReturnType<typeof createChatHub>;
  readonly options: HubServerOptions;
  readonly redisClients: readonly Redis[];
}

/** How long Redis has to answer at start-up before the sample gives up with one clear line. */
const REDIS_START_TIMEOUT_MS = 3_000;

/**
 * Three connections to Redis (the store, the backplane's publisher and subscriber), once Redis has
 * answered: an unreachable `REDIS_URL` fails within a few seconds with one line that says what to
 * do. While running, losing Redis is logged once (not once per retry), and so is its return.
 */
async function connectRedis(redisUrl: string): Promise<Redis[]> {
  const clients = [0, 1, 2].map(() => new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: REDIS_START_TIMEOUT_MS }));
  const where = redisUrl.replace(/\/\/[^@/]*@/, "//");
  // Until Redis has answered once, its errors are the start-up failure below (not ioredis's
  // "Unhandled error event" for every retry); after that, an outage is said once.
  let started = false;
  let lost = false;
  for (const client of clients) {
    client.on("error", (error: Error) => {
      if (!started || lost) return;
      lost = true;
      console.error(`Redis at ${where} is unavailable (${error.message}): messages may not reach other servers until it is back.`);
    });
    client.on("ready", () => {
      if (!lost) return;
      lost = false;
      console.error(`Redis at ${where} is back.`);
    });
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Promise.all(clients.map((client) => client.connect().then(() => client.ping()))),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${REDIS_START_TIMEOUT_MS / 1000} s`)), REDIS_START_TIMEOUT_MS))),
    ]);
  } catch (error) {
    for (const client of clients) client.disconnect();
    throw new Error(`Redis at ${where} is not reachable (${(error as Error).message}). Start Redis, fix REDIS_URL, or leave it unset to run in memory.`);
  } finally {
    clearTimeout(timer);
  }
  started = true;
  return clients;
}

/** The chat hub, in memory or over Redis at `redisUrl` (which must answer; see {@link connectRedis}). */
export async function chatSetup(redisUrl: string | undefined): Promise<ChatSetup> {
  const redis = redisUrl === undefined ? [] : await connectRedis(redisUrl);
  const [store, publisher, subscriber] = redis;
  const hub = createChatHub(store === undefined ? new MemoryChatStore() : new RedisChatStore(store));
  return {
    hub,
    options: {
      hubs: { "/chat": hub },
      hubOptions: { allowStatefulReconnect: true },
      ...(publisher !== undefined && subscriber !== undefined
        ? { lifetimeManager: redisLifetimeManager({ publisher, subscriber, prefix: "hubwire-chat" }) }
        : {}),
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
export async function chatPages(
  options: { readonly pageDir?: string | undefined; readonly scriptPath?: string | undefined } = {},
): Promise<(path: string) => Promise<PageAnswer>> {
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
