#!/usr/bin/env node
// A Hubwire node for round-robin.test.ts, in its own process, scaled out over Redis: a hub with
// every feature a connection may use (results, errors, groups, users, streams both ways, client
// results, ordered bursts both ways), so that each can be driven through a load balancer. Log
// lines go to stdout as JSON ("The Redis backplane is back." once it first works), then
// "READY <port>". Configured by environment: REDIS_PORT, PREFIX, NODE_NAME, HUB_OPTIONS (JSON).
import { createServer } from "node:http";
import { redisLifetimeManager } from "@hubwire/redis";
import { createHubServer, defineHub, HubError } from "@hubwire/server";

const env = process.env;

const hub = defineHub({
  methods: {
    echo: (_ctx, value) => value,
    add: { args: ["number", "number"], handler: (_ctx, a, b) => a + b },
    node: () => env.NODE_NAME ?? "node",
    connectionId: (ctx) => ctx.connectionId,
    failPublicly: () => {
      throw new HubError("You may know this.");
    },
    join: (ctx, group) => ctx.groups.add(ctx.connectionId, group),
    toGroup: (ctx, group, payload) => ctx.clients.group(group).message(payload),
    toUser: (ctx, userId, payload) => ctx.clients.user(userId).message(payload),
    async *count(_ctx, n) {
      for (let i = 0; i < n; i++) yield i;
    },
    sum: {
      args: ["stream"],
      async handler(_ctx, numbers) {
        let total = 0;
        for await (const n of numbers) total += n;
        return total;
      },
    },
    // Client results: of the caller, and of another connection (maybe held by another node).
    ask: (ctx, question) => ctx.clients.caller.invokeWith({ timeoutMs: 10_000 }).confirm(question),
    askClient: (ctx, connectionId, question) => ctx.clients.client(connectionId).invokeWith({ timeoutMs: 10_000 }).confirm(question),
    // Ordered bursts: numbers the client sent one by one (kept per connection), and numbers sent to it.
    note: (ctx, n) => {
      const notes = ctx.items.get("notes") ?? [];
      notes.push(n);
      ctx.items.set("notes", notes);
    },
    notes: (ctx) => ctx.items.get("notes") ?? [],
    burst: async (ctx, n) => {
      for (let i = 0; i < n; i++) await ctx.clients.caller.tick(i);
      return n;
    },
  },
});

const logger = {
  log(level, message, fields) {
    const safe =
      fields === undefined
        ? undefined
        : Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v instanceof Error ? `${v.name}: ${v.message}\n${v.stack}` : v]));
    process.stdout.write(`${JSON.stringify({ level, message, fields: safe })}\n`);
  },
};

const hubs = createHubServer({
  hubs: { "/hub": hub },
  hubOptions: JSON.parse(env.HUB_OPTIONS ?? "{}"),
  logger,
  // The access token is the user id: clients.user() is then driven by the test.
  authenticate: ({ accessToken }) => (accessToken === undefined ? undefined : { userId: accessToken }),
  lifetimeManager: redisLifetimeManager({ redis: `redis://127.0.0.1:${env.REDIS_PORT}`, prefix: env.PREFIX ?? "round-robin", logger }),
});
const server = createServer((_request, response) => response.writeHead(404).end("not found"));
hubs.attach(server);
server.listen(0, "127.0.0.1", () => process.stdout.write(`READY ${server.address().port}\n`));

// Never outlive the suite: a node whose parent died (re-parented) exits.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && process.exit(1), 1_000).unref();
