#!/usr/bin/env bun
// `npm run start:bun`: the chat sample on Bun (Bun.serve and its own WebSockets, through
// @hubwire/server/bun). PORT (default 3000, 0 for any free port), HOST (default 127.0.0.1) and
// REDIS_URL as for `npm start`; Bun nodes and Node nodes share one chat over the same Redis.
// socket.io clients are not served here: socket.io's Server (and so @hubwire/socket.io) attaches to
// a node:http server, and this file serves with Bun.serve, so it is not wired. Pages with
// ?client=socket.io say so; socket.io clients use a Node node (`npm start`), which shares the
// rooms over Redis with this one.
import { type BunServerLike, createHubServer } from "@hubwire/server/bun";
import { chatBanner } from "./chat-banner.js";
import { chatPages, chatSetup } from "./chat-setup.js";

/** The part of Bun's global this file uses (no bun-types needed). */
declare const Bun: {
  serve(options: {
    port: number;
    hostname: string;
    fetch(request: Request, server: BunServerLike): Response | undefined | Promise<Response | undefined>;
    websocket: unknown;
  }): { port: number; stop(closeActiveConnections?: boolean): void };
};

const setup = await chatSetup(process.env["REDIS_URL"] || undefined).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
const hubs = createHubServer(setup.options);
const pages = await chatPages();
const host = process.env["HOST"] ?? "127.0.0.1";
const server = Bun.serve({
  port: Number(process.env["PORT"] ?? 3000),
  hostname: host,
  fetch: (request, bun) =>
    hubs.fetch(request, bun) ??
    pages(new URL(request.url).pathname).then(
      (answer) => new Response(answer.body as string | Uint8Array<ArrayBuffer>, { status: answer.status, headers: { "Content-Type": answer.contentType } }),
    ),
  websocket: hubs.websocket,
});
console.log(chatBanner(`http://${host}:${server.port}/`, setup.node.status, "Bun"));
console.log("Open it in two browser tabs; add ?transport=LongPolling or ?transport=ServerSentEvents to see the fallbacks.");
console.log("socket.io clients are not served on Bun (npm start serves them at the namespace /chat).");
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(
    signal,
    () =>
      void hubs.close().then(() => {
        server.stop(true);
        setup.close();
        console.log("Hubwire chat stopped.");
        process.exit(0);
      }),
  );
}
