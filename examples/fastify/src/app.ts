/**
 * The example's server: a Fastify 5 app with the board hub at /board (Hubwire's Fastify adapter)
 * beside Fastify's own routes, one of which posts to a room from plain HTTP.
 */
import { createHubServer, type HubServer, useHubsWithFastify } from "@hubwire/server";
import Fastify, { type FastifyInstance } from "fastify";
import { board } from "./board-hub.js";

export interface ExampleApp {
  readonly app: FastifyInstance;
  readonly hubs: HubServer;
}

/** The app, not listening yet: `await app.listen(...)`; `await app.close()` closes the hubs too. */
export function buildApp(): ExampleApp {
  const app = Fastify();
  const hubs = createHubServer({ hubs: { "/board": board } });
  // The hubs answer their own requests in front of Fastify's router, and app.close() closes them
  // first (each client gets a Close), so that Fastify's server can close.
  useHubsWithFastify(app, hubs);

  app.get("/health", async () => ({ status: "ok", connections: hubs.connectionCount("/board") }));

  // From outside the hub: an HTTP route (a webhook, a job) sends to the hub's clients.
  app.post<{ Params: { room: string }; Body: { text?: unknown } }>("/rooms/:room/messages", async (request, reply) => {
    const text = request.body?.text;
    if (typeof text !== "string" || text.length === 0 || text.length > 500) return reply.code(400).send({ error: 'Send { "text": "1 to 500 characters" }.' });
    await hubs.hubContext(board).clients.group(request.params.room).receive(request.params.room, "http", text);
    return reply.code(202).send({ delivered: true });
  });
  return { app, hubs };
}
