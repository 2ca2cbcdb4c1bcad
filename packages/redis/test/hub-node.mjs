// One Hubwire node for the multi-process tests: a test hub on a free port, scaled out through the
// Redis at REDIS_PORT. Prints "READY <port>" once it listens; SIGTERM closes it gracefully.
// DELIVERY=durable switches to durable delivery (STREAM_MAX_LENGTH, PUBLISH_TIMEOUT_MS and
// HEARTBEAT_MS tune it); each loss it finds is printed as "LOSS <json>".
import { createServer } from "node:http";
import { createHubServer, defineHub } from "@hubwire/server";
import { Redis } from "ioredis";
import { BackplaneError, redisLifetimeManager } from "../dist/index.js";

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
    // Durable delivery: a failed send is retried with its id until Redis takes it (delivered once either way).
    sendWithRetry: async (ctx, target, text) => {
      try {
        await clientsFor(ctx.clients, target).receive(text);
        return 0;
      } catch (error) {
        if (!(error instanceof BackplaneError) || error.retry === undefined) throw error;
        for (let attempt = 1; ; attempt++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          try {
            await error.retry();
            return attempt;
          } catch (again) {
            if (attempt >= 50) throw again;
          }
        }
      }
    },
  },
});

const hubs = createHubServer({
  hubs: { "/hub": hub },
  authenticate: ({ accessToken }) => (accessToken ? { userId: accessToken } : undefined),
  lifetimeManager: redisLifetimeManager({
    publisher,
    subscriber,
    prefix,
    ackTimeoutMs: 2_000,
    ...(process.env.DELIVERY === "durable"
      ? {
          delivery: "durable",
          onDeliveryLoss: (loss) => console.log(`LOSS ${JSON.stringify(loss)}`),
          ...(process.env.STREAM_MAX_LENGTH ? { streamMaxLength: Number(process.env.STREAM_MAX_LENGTH) } : {}),
        }
      : {}),
    ...(process.env.PUBLISH_TIMEOUT_MS ? { publishTimeoutMs: Number(process.env.PUBLISH_TIMEOUT_MS) } : {}),
    ...(process.env.HEARTBEAT_MS ? { heartbeatIntervalMs: Number(process.env.HEARTBEAT_MS) } : {}),
  }),
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
