/**
 * The socket.io peer, with the bench hub's four events and acknowledgements for the echo.
 * --transports websocket|polling; with --redis URL, @socket.io/redis-adapter joins the nodes.
 */
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { argument, serveParent } from "../server-process.js";

const redis = argument("redis", "");
const transport = argument("transports", "websocket") === "polling" ? "polling" : "websocket";
const clients = redis === "" ? [] : [new Redis(redis), new Redis(redis)];
const server = createServer();
const io = new Server(server, {
  transports: [transport],
  serveClient: false,
  ...(clients.length === 2 ? { adapter: createAdapter(clients[0], clients[1]) } : {}),
});

io.on("connection", (socket) => {
  socket.on("echo", (payload: string, ack: (payload: string) => void) => ack(payload));
  socket.on("broadcast", (payload: string) => io.emit("message", payload));
  socket.on("join", (group: string, ack: () => void) => {
    void socket.join(group);
    ack();
  });
  socket.on("relay", (group: string, payload: string) => io.to(group).emit("message", payload));
});
server.listen(0, argument("host", "127.0.0.1"), () => {
  serveParent((server.address() as AddressInfo).port, async () => {
    await io.close();
    for (const client of clients) client.disconnect();
  });
});
