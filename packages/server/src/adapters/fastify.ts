/**
 * Fastify: the hubs are served on Fastify's own HTTP server, in front of its router, and closed
 * with it.
 *
 * @module
 */
import type { Server as HttpServer } from "node:http";
import type { Http2SecureServer, Http2Server } from "node:http2";
import type { Server as HttpsServer } from "node:https";
import type { HubServer } from "../node/node-hub-server.js";

/** The part of a Fastify instance this adapter uses. */
export interface FastifyLike {
  /** HTTP/1.1, HTTPS, or HTTP/2 (`Fastify({ http2: true, https: { allowHTTP1: true, ... } })`). */
  readonly server: HttpServer | HttpsServer | Http2Server | Http2SecureServer;
  addHook(name: "preClose", hook: () => Promise<void>): unknown;
}

/**
 * Mounts the hubs on a Fastify instance.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { createHubServer, useHubsWithFastify } from "@hubwire/server";
 *
 * const app = Fastify();
 * useHubsWithFastify(app, createHubServer({ hubs: { "/chat": chat } }));
 * await app.listen({ port: 5000 });
 * ```
 */
export function useHubsWithFastify(app: FastifyLike, hubs: HubServer): void {
  hubs.attach(app.server);
  // preClose, not onClose: Fastify runs onClose after its server has closed, and the server
  // waits for the open WebSockets that only closing the hubs ends.
  app.addHook("preClose", () => hubs.close());
}
