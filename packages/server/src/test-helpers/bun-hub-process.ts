/**
 * A hub on Bun, for the suites: run with `bun src/test-helpers/bun-hub-process.ts` (Bun runs the
 * TypeScript source). Serves the test hub at `/hub` with the official-client suite's options,
 * and, for the suite's questions from outside, `GET /test/connections`, `POST /test/send-to-user`
 * and `GET /test/recorded`. Prints `READY <port>` once it listens; stops on SIGTERM.
 */

import type { BunServerLike } from "../bun/bun-types.js";
import { createHubServer } from "../bun/index.js";
import { suiteHubOptions } from "./official-client-suite.js";
import { recorded, testHub } from "./test-hub.js";

/** The part of Bun's global this process uses (no bun-types needed). */
declare const Bun: {
  serve(options: {
    port: number;
    hostname: string;
    fetch(request: Request, server: BunServerLike): Response | undefined | Promise<Response | undefined>;
    websocket: unknown;
  }): { port: number; stop(closeActiveConnections?: boolean): void };
};

const hubs = createHubServer({ hubs: { "/hub": testHub }, ...suiteHubOptions, ...JSON.parse(process.env["HUB_SERVER_OPTIONS"] ?? "{}") });

async function test(request: Request, path: string): Promise<Response> {
  if (path === "/test/connections") return Response.json(hubs.connectionCount("/hub"));
  if (path === "/test/recorded") return Response.json(recorded);
  if (path === "/test/send-to-user" && request.method === "POST") {
    const { userId, text } = (await request.json()) as { userId: string; text: string };
    await hubs.hubContext(testHub).clients.user(userId).receive(text);
    return new Response(null, { status: 204 });
  }
  return new Response("Not found", { status: 404 });
}

const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: (request, bun) => hubs.fetch(request, bun) ?? test(request, new URL(request.url).pathname),
  websocket: hubs.websocket,
});
process.once("SIGTERM", () => {
  void hubs.close({ drainTimeoutMs: 0 }).then(() => {
    server.stop(true);
    process.exit(0);
  });
});
console.log(`READY ${server.port}`);
