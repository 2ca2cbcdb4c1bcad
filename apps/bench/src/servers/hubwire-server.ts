/**
 * Hubwire under test: one hub with the bench's four methods, every transport and both
 * protocols on, defaults otherwise. With --redis URL it joins the other nodes through Redis.
 */
import { redisLifetimeManager } from "@hubwire/redis";
import { createHubServer, defineHub, silentLogger } from "@hubwire/server";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { BenchContract } from "../bench-contract.js";
import { argument, serveParent } from "../server-process.js";

const redis = argument("redis", "");
const hub = defineHub<BenchContract>({
  methods: {
    echo: (_ctx, payload) => payload,
    broadcast: (ctx, payload) => ctx.clients.all.message(payload),
    join: (ctx, group) => ctx.groups.add(ctx.connectionId, group),
    relay: (ctx, group, payload) => ctx.clients.group(group).message(payload),
  },
});
const hubs = createHubServer({
  hubs: { "/hub": hub },
  logger: silentLogger,
  ...(redis === "" ? {} : { lifetimeManager: redisLifetimeManager({ redis, prefix: "bench" }) }),
});
const server = createServer((_request, response) => response.writeHead(404).end());
hubs.attach(server);
server.listen(0, argument("host", "127.0.0.1"), () => {
  serveParent((server.address() as AddressInfo).port, async () => {
    await hubs.close();
    server.closeAllConnections();
  });
});
