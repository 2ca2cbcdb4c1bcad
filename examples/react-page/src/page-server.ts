/**
 * Serves the React page (public/index.html and the bundled dist/public/app.js) and, on the same
 * node:http server and port, its hub at /chat: the page connects to "/chat" on its own origin.
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { createHubServer, type HubServer } from "@hubwire/server";
import { chat } from "./chat-hub.js";

/** The package's folder, from src/ (tests) and from dist/ (npm start) alike. */
const packageDir = fileURLToPath(new URL("..", import.meta.url));

export interface PageServerOptions {
  /** Default 3000; 0 picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** The page's script. Default dist/public/app.js (`npm run build`). */
  readonly scriptPath?: string;
}

export interface PageServer {
  /** The page's URL, e.g. `http://127.0.0.1:3000/`. */
  readonly url: string;
  readonly hubs: HubServer;
  close(): Promise<void>;
}

export async function startPageServer(options: PageServerOptions = {}): Promise<PageServer> {
  const hubs = createHubServer({ hubs: { "/chat": chat } });
  const scriptPath = options.scriptPath ?? `${packageDir}dist/public/app.js`;
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    const file = path === "/" ? `${packageDir}public/index.html` : path === "/app.js" ? scriptPath : undefined;
    if (file === undefined) return void response.writeHead(404, { "Content-Type": "text/plain" }).end("Not found");
    const type = file.endsWith(".html") ? "text/html; charset=utf-8" : "text/javascript; charset=utf-8";
    // Read per request: a rebuilt page is served without a restart.
    readFile(file).then(
      (body) => response.writeHead(200, { "Content-Type": type }).end(body),
      () => response.writeHead(500, { "Content-Type": "text/plain" }).end("The page is not built: run npm run build."),
    );
  });
  // Requests for /chat (negotiate, the transports) and its WebSockets go to the hub; the rest to the handler above.
  hubs.attach(server);
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 3000, host, () => (server.off("error", reject), resolve()));
  });
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/`,
    hubs,
    async close() {
      await hubs.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
