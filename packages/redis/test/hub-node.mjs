// One Hubwire node for the multi-process tests: a test hub on a free port, scaled out through the
// Redis at REDIS_PORT. Prints "READY <port>" once it listens; SIGTERM closes it gracefully.
import { createServer } from "node:http";
import { createHubServer, defineHub } from "@hubwire/server";
import { Redis } from "ioredis";
import { redisLifetimeManager } from "../dist/index.js";

const redisPort = Number(process.env.REDIS_PORT);
const prefix = process.env.PREFIX ?? "hubwire-test";
const publisher = new Redis(redisPort, "127.0.0.1", { maxRetriesPerRequest: 1 });
const subscriber = new Redis(redisPort, "127.0.0.1", { maxRetriesPerRequest: 1 });

function clientsFor(clients, target) {
  switch (target.kind) {
    case "all":
      return clients.all;
    case "allExcept":
      return clients.allExcept(target.ids);
    case "caller":
      return clients.caller;
    case "others":
      return clients.others;
    case "client":
      return clients.client(target.id);
    case "clients":
      return clients.clients(target.ids);
    case "group":
      return clients.group(target.name);
    case "groups":
      return clients.groups(target.names);
    case "groupExcept":
      return clients.groupExcept(target.name, target.ids);
    case "othersInGroup":
      return clients.othersInGroup(target.name);
    case "user":
      return clients.user(target.id);
    case "users":
      return clients.users(target.ids);
  }
}

const hub = defineHub({
  methods: {
    whoAmI: (ctx) => ({ connectionId: ctx.connectionId, node: process.env.NODE_NAME }),
    join: (ctx, group) => ctx.groups.add(ctx.connectionId, group),
    addToGroup: (ctx, connectionId, group) => ctx.groups.add(connectionId, group),
    sendTo: (ctx, target, text) => clientsFor(ctx.clients, target).receive(text),
    askOther: (ctx, connectionId, question) => ctx.clients.client(connectionId).invoke.question(question),
  },
});

const hubs = createHubServer({
  hubs: { "/hub": hub },
  authenticate: ({ accessToken }) => (accessToken ? { userId: accessToken } : undefined),
  lifetimeManager: redisLifetimeManager({ publisher, subscriber, prefix, ackTimeoutMs: 2_000 }),
});
const server = createServer((_request, response) => response.writeHead(404).end());
hubs.attach(server);
server.listen(0, "127.0.0.1", () => console.log(`READY ${server.address().port}`));

process.on("SIGTERM", async () => {
  await hubs.close();
  server.closeAllConnections();
  server.close();
  publisher.disconnect();
  subscriber.disconnect();
  process.exit(0);
});
