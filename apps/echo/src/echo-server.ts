/**
 * The echo sample's server: the page at / and a raw WebSocket endpoint at /ws that sends every
 * message back, as the seed's middleware does. No hub, no protocol: compare with apps/chat.
 */

import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createSecureServer, type Http2SecureServer, type Http2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { createWebSocketEndpoint, type EndpointRequest, type NodeRequest, type NodeResponse, type WebSocketEndpointOptions } from "@hubwire/server";

export interface EchoServer {
  readonly url: string;
  readonly server: Server | Http2SecureServer;
  /** The requests that opened sockets, newest last (httpVersion tells HTTP/1.1 from HTTP/2). */
  readonly requests: readonly EndpointRequest[];
  close(): Promise<void>;
}

export interface EchoServerOptions {
  readonly port?: number;
  readonly host?: string;
  readonly endpoint?: WebSocketEndpointOptions;
  /** Serve over TLS with HTTP/2 (and HTTP/1.1): browsers that support RFC 8441 open the socket over HTTP/2. */
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer };
}

export async function startEchoServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const page = await readFile(fileURLToPath(new URL("../public/index.html", import.meta.url)));
  const requests: EndpointRequest[] = [];
  const echo = createWebSocketEndpoint(async (socket) => {
    requests.push(socket.request);
    for await (const message of socket) socket.send(message.data, { binary: message.isBinary });
  }, options.endpoint);
  const serve = (request: NodeRequest, response: NodeResponse) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path === "/ws") return void echo.handleRequest(request, response);
    if (path === "/") return void response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(page);
    response.writeHead(404, { "Content-Type": "text/plain" }).end("Not found");
  };
  let server: Server | Http2SecureServer;
  const sessions = new Set<Http2Session>();
  if (options.tls === undefined) {
    server = createServer(serve);
    server.on("upgrade", (request, socket, head) => {
      if ((request.url ?? "").split("?")[0] === "/ws") echo.handleUpgrade(request, socket, head);
      else socket.destroy();
    });
  } else {
    // HTTP/2, and HTTP/1.1 for clients without it: the socket opens over whichever the page came on.
    server = createSecureServer({ ...options.tls, allowHTTP1: true }, serve);
    echo.attachHttp2(server, "/ws");
    // HTTP/2 sessions outlive their requests: close() ends them, as closeAllConnections does for HTTP/1.1.
    server.on("session", (session: Http2Session) => {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
    });
  }
  await new Promise<void>((resolve) => server.listen(options.port ?? 5000, options.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls === undefined ? "http" : "https"}://${options.host ?? "127.0.0.1"}:${port}/`,
    server,
    requests,
    async close() {
      echo.close();
      if ("closeAllConnections" in server) server.closeAllConnections();
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
