/**
 * The bench hub (./bench-hub.ts) served to socket.io clients through `@hubwire/socket.io`, on
 * socket.io's main namespace so that they speak to it exactly as to the plain socket.io peer
 * (./socketio-server.ts). The hubs are attached to the same HTTP server, as an app serving
 * SignalR and socket.io clients side by side would have them; only socket.io clients connect here.
 */

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createHubServer, defineHub, silentLogger } from "@hubwire/server";
import { serveHubs } from "@hubwire/socket.io";
import { Server } from "socket.io";
import { argument, serveParent } from "../server-process.js";
import { benchHub } from "./bench-hub.js";

const hub = defineHub(benchHub);
const server = createServer();
const hubs = createHubServer({ hubs: { "/hub": hub }, logger: silentLogger }).attach(server);
// Hubwire's upgrade listener leaves other paths alone; socket.io must not destroy the hubs' upgrades either.
const io = new Server(server, { transports: ["websocket"], serveClient: false, destroyUpgrade: false });
serveHubs(io, hubs, { "/": hub });

server.listen(0, argument("host", "127.0.0.1"), () => {
  serveParent((server.address() as AddressInfo).port, async () => {
    await hubs.close({ drainTimeoutMs: 0 });
    await io.close();
  });
});
