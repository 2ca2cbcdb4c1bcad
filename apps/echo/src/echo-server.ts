/**
 * The echo sample's server: the page at / and a raw WebSocket endpoint at /ws that sends every
 * message back, as the seed's middleware does. No hub, no protocol: compare with apps/chat.
 */
import { createWebSocketEndpoint, type WebSocketEndpointOptions } from "@hubwire/server";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

export interface EchoServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startEchoServer(options: { port?: number; host?: string; endpoint?: WebSocketEndpointOptions } = {}): Promise<EchoServer> {
  const page = await readFile(fileURLToPath(new URL("../public/index.html", import.meta.url)));
  const echo = createWebSocketEndpoint(async (socket) => {
    for await (const message of socket) socket.send(message.data, { binary: message.isBinary });
  }, options.endpoint);
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path === "/ws") return void echo.handleRequest(request, response);
    if (path === "/") return void response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(page);
    response.writeHead(404, { "Content-Type": "text/plain" }).end("Not found");
  });
  server.on("upgrade", (request, socket, head) => {
    if ((request.url ?? "").split("?")[0] === "/ws") echo.handleUpgrade(request, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 5000, options.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}/`,
    server,
    async close() {
      echo.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
