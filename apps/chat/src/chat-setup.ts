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
import { ChatNode } from "./chat-node.js";
import { MemoryChatStore } from "./memory-chat-store.js";
import { RedisAvailability } from "./redis-availability.js";
import { RedisChatStore } from "./redis-chat-store.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

/** What a server needs to serve the chat hub, and what to close after it. */
export interface ChatSetup {
  /** The chat hub (mounted at /chat by `options`). */
  readonly hub: ReturnType<typeof createChatHub>;
  readonly options: HubServerOptions;
  /** This node as its pages see it: its id, and whether Redis answers. */
  readonly node: ChatNode;
  /** Stops watching Redis and disconnects from it; call it once the hub server has closed. */
  close(): void;
}

/** How the chat is set up, beyond where Redis is. */
export interface ChatSetupOptions {
  /** Where the sample's own lines go: Redis lost and back, failures no caller hears of. Default `console.error`. */
  readonly log?: (line: string) => void;
  /** A store call Redis has not answered within this long fails, and the page says so. Default 2 s. */
  readonly storeTimeoutMs?: number;
}

/** How long Redis has to answer at start-up before the sample gives up with one clear line. */
const REDIS_START_TIMEOUT_MS = 3_000;

/**
 * Three connections to Redis (the store, the backplane's publisher and subscriber), once Redis has
 * answered: an unreachable `REDIS_URL`, or one that accepts connections and answers nothing, fails
 * within a few seconds with one line that says what to do. `availability` follows them from then on.
 */
async function connectRedis(redisUrl: string, where: string, availability: RedisAvailability): Promise<[Redis, Redis, Redis]> {
  const clients = [0, 1, 2].map(() => new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: REDIS_START_TIMEOUT_MS }));
  for (const client of clients) availability.watchClient(client);
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
  availability.start();
  return [clients[0]!, clients[1]!, clients[2]!];
}

/**
 * The chat hub, in memory or over Redis at `redisUrl`, which must answer first (see
 * {@link connectRedis}): a server that says it shares its rooms over Redis has heard from Redis.
 *
 * @example
 * ```ts
 * const setup = await chatSetup(process.env["REDIS_URL"] || undefined);
 * const hubs = createHubServer(setup.options);
 * console.log(chatBanner(url, setup.node.status));
 * ```
 */
export async function chatSetup(redisUrl: string | undefined, setupOptions: ChatSetupOptions = {}): Promise<ChatSetup> {
  const log = setupOptions.log ?? ((line: string) => console.error(line));
  const hubOptions = { allowStatefulReconnect: true };
  if (redisUrl === undefined) {
    const node = new ChatNode("local");
    const hub = createChatHub({ store: new MemoryChatStore(), node, log });
    return { hub, node, options: { hubs: { "/chat": hub }, hubOptions }, close: () => undefined };
  }
  const where = redisUrl.replace(/\/\/[^@/]*@/, "//");
  const availability = new RedisAvailability({ where, log });
  const clients = await connectRedis(redisUrl, where, availability);
  const [storeClient, publisher, subscriber] = clients;
  const backplane = redisLifetimeManager({ publisher, subscriber, prefix: "hubwire-chat" });
  // The chat hub's manager is made here rather than when the hub server asks for it: its id is the
  // node's id on the page and in the banner (the admin page shows the same), and its heartbeat
  // finds a Redis that answers nothing.
  const chatManager = backplane("chat");
  availability.watchBackplane(chatManager);
  const node = new ChatNode(chatManager.nodeId, availability);
  const hub = createChatHub({ store: new RedisChatStore(storeClient, { timeoutMs: setupOptions.storeTimeoutMs }), node, log });
  return {
    hub,
    node,
    options: {
      hubs: { "/chat": hub },
      hubOptions,
      lifetimeManager: (hubName) => (hubName === hub.name ? chatManager : backplane(hubName)),
    },
    close() {
      availability.close();
      for (const client of clients) client.disconnect();
    },
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
