/**
 * The socket.io peer on Node, with the bench's events (./socketio-events.ts).
 * --transports websocket|polling; with --redis URL the nodes are joined by --adapter redis (the
 * default, @socket.io/redis-adapter over pub/sub) or streams (@socket.io/redis-streams-adapter).
 */

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdapter as createRedisAdapter } from "@socket.io/redis-adapter";
import { createAdapter as createStreamsAdapter } from "@socket.io/redis-streams-adapter";
import { Redis } from "ioredis";
import { Server } from "socket.io";
import { argument, serveParent } from "../server-process.js";
import { handleBenchEvents } from "./socketio-events.js";

const redis = argument("redis", "");
const transport = argument("transports", "websocket") === "polling" ? "polling" : "websocket";
const adapterName = argument("adapter", "redis");
if (adapterName !== "redis" && adapterName !== "streams") throw new Error(`--adapter must be redis or streams, not ${adapterName}.`);
if (adapterName === "streams" && redis === "") throw new Error("--adapter streams needs --redis URL.");
const clients: Redis[] = [];

function adapterOptions() {
  if (redis === "") return {};
  // The streams adapter takes one client, which it duplicates for its blocking XREAD and for its
  // pub/sub channel (and disconnects those itself on close); the pub/sub adapter takes two.
  if (adapterName === "streams") {
    const client = new Redis(redis);
    clients.push(client);
    return { adapter: createStreamsAdapter(client) };
  }
  const [publisher, subscriber] = [new Redis(redis), new Redis(redis)];
  clients.push(publisher, subscriber);
  return { adapter: createRedisAdapter(publisher, subscriber) };
}

const server = createServer();
const io = new Server(server, { transports: [transport], serveClient: false, ...adapterOptions() });

handleBenchEvents(io);
server.listen(0, argument("host", "127.0.0.1"), () => {
  serveParent((server.address() as AddressInfo).port, async () => {
    await io.close();
    for (const client of clients) client.disconnect();
  });
});
