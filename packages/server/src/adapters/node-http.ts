/**
 * Serves hubs on a `node:http`/`node:https` server that may already have its own request
 * handler: hub paths are taken first, everything else reaches the listeners that were there.
 *
 * @module
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import { rejectUpgrade } from "../websockets/upgrade-response.js";

/** What this adapter needs of a hub server. */
export interface RequestRouter {
  handleRequest(request: IncomingMessage, response: ServerResponse): boolean;
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

/**
 * Puts `router` in front of the server's request listeners and adds an upgrade listener.
 *
 * @example
 * ```ts
 * attachToServer(createServer(app), hubs);
 * ```
 */
export function attachToServer(server: HttpServer | HttpsServer, router: RequestRouter): void {
  const existing = server.listeners("request") as Array<(request: IncomingMessage, response: ServerResponse) => void>;
  server.removeAllListeners("request");
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    if (router.handleRequest(request, response)) return;
    if (existing.length === 0) {
      response.writeHead(404, { "Content-Type": "text/plain" }).end("Not found");
      return;
    }
    for (const listener of existing) listener.call(server, request, response);
  });
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (router.handleUpgrade(request, socket, head)) return;
    // Others may serve this upgrade; if no one else listens, answer instead of leaving it hanging.
    if (server.listenerCount("upgrade") === 1) rejectUpgrade(socket, 400, "No WebSocket endpoint at this path.");
  });
}
