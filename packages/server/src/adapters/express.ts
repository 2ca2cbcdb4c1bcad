/**
 * Express (and Connect): hub requests through middleware, upgrades through the HTTP server.
 *
 * @module
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { HubServer } from "../node/node-hub-server.js";

/**
 * Mounts the hubs on an Express app and the HTTP server it listens on. Call it before other
 * middleware that reads bodies: the hub transports read their own.
 *
 * @example
 * ```ts
 * import express from "express";
 * import { createHubServer, useHubsWithExpress } from "@hubwire/server";
 *
 * const app = express();
 * const server = app.listen(5000);
 * useHubsWithExpress(app, server, createHubServer({ hubs: { "/chat": chat } }));
 * ```
 */
export function useHubsWithExpress(
  app: { use(handler: (request: IncomingMessage, response: ServerResponse, next: () => void) => void): unknown },
  server: HttpServer | HttpsServer,
  hubs: HubServer,
): void {
  app.use(hubs.middleware());
  server.on("upgrade", (request, socket, head: Buffer) => {
    if (!hubs.handleUpgrade(request, socket, head) && server.listenerCount("upgrade") === 1) socket.destroy();
  });
}
