/**
 * The socket.io peer on Node, with the bench's events (./socketio-events.ts).
 * --transports websocket|polling; with --redis URL, @socket.io/redis-adapter joins the nodes.
 */

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import { Server } from "socket.io";
import { argument, serveParent } from "../server-process.js";
import { handleBenchEvents } from "./socketio-events.js";

const redis = argument("redis", "");
const transport = argument("transports", "websocket") === "polling" ? "polling" : "websocket";
const clients = redis === "" ? [] : [new Redis(redis), new Redis(redis)];
const server = createServer();
const io = new Server(server, {
  transports: [transport],
  serveClient: false,
  ...(clients.length === 2 ? { adapter: createAdapter(clients[0], clients[1]) } : {}),
});

handleBenchEvents(io);
server.listen(0, argument("host", "127.0.0.1"), () => {
  serveParent((server.address() as AddressInfo).port, async () => {
    await io.close();
    for (const client of clients) client.disconnect();
  });
});
