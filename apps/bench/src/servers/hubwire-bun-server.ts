/**
 * Hubwire under test on Bun: the same bench hub as on Node (./bench-hub.ts), served by
 * `@hubwire/server/bun` through `Bun.serve` with Bun's own WebSockets. Run by the bun binary.
 */
import { createHubServer, defineHub, silentLogger } from "@hubwire/server/bun";
import { argument, serveParent } from "../server-process.js";
import { benchHub } from "./bench-hub.js";
import { serveOnBun } from "./bun-serve.js";

const hubs = createHubServer({ hubs: { "/hub": defineHub(benchHub) }, logger: silentLogger });
const server = serveOnBun({
  port: 0,
  hostname: argument("host", "127.0.0.1"),
  fetch: (request, bunServer) => hubs.fetch(request, bunServer) ?? new Response("Not found", { status: 404 }),
  websocket: hubs.websocket,
});
serveParent(server.port, async () => {
  await hubs.close();
  server.stop(true);
});
