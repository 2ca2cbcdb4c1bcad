/**
 * Hubwire under test on Node: the bench hub, every transport and both protocols on, defaults
 * otherwise. With --redis URL it joins the other nodes through Redis, on channels under --prefix
 * (default "bench"), with --delivery pubsub (the default) or durable (Redis Streams, the
 * backplane's `delivery` option). It also runs as each worker of servers/hubwire-cluster-server.ts.
 */

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { redisLifetimeManager } from "@hubwire/redis";
import { createHubServer, defineHub, silentLogger } from "@hubwire/server";
import { argument, serveParent } from "../server-process.js";
import { benchHub } from "./bench-hub.js";

const redis = argument("redis", "");
const prefix = argument("prefix", "bench");
const delivery = argument("delivery", "pubsub");
if (delivery !== "pubsub" && delivery !== "durable") throw new Error(`--delivery must be pubsub or durable, not ${delivery}.`);
// Without a Redis there is no backplane to deliver through: a durable node alone would measure pub/sub's figure under another name.
if (delivery === "durable" && redis === "") throw new Error("--delivery durable needs --redis URL.");
const hubs = createHubServer({
  hubs: { "/hub": defineHub(benchHub) },
  logger: silentLogger,
  ...(redis === "" ? {} : { lifetimeManager: redisLifetimeManager({ redis, prefix, delivery }) }),
});
const server = createServer((_request, response) => response.writeHead(404).end());
hubs.attach(server);
server.listen(0, argument("host", "127.0.0.1"), () => {
  serveParent((server.address() as AddressInfo).port, async () => {
    await hubs.close();
    server.closeAllConnections();
  });
});
