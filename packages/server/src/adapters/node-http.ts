/**
 * Serves hubs on a `node:http`, `node:https` or `node:http2` server that may already have its own
 * request handler: hub paths are taken first, everything else reaches the listeners that were
 * there. On an HTTP/2 server WebSockets arrive as extended CONNECT streams (RFC 8441), and as
 * HTTP/1.1 upgrades from clients that speak only HTTP/1.1 (with `allowHTTP1`).
 *
 * @module
 */
import type { Server as HttpServer, IncomingMessage } from "node:http";
import type { Http2SecureServer, Http2Server, Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Server as HttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import type { NodeRequest, NodeResponse } from "../node/node-http-exchange.js";
import { listenAsHubwire, passOver } from "../websockets/unclaimed-requests.js";
import { rejectUpgrade } from "../websockets/upgrade-response.js";

/** What this adapter needs of a hub server. */
export interface RequestRouter {
  handleRequest(request: NodeRequest, response: NodeResponse): boolean;
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  handleConnect(request: Http2ServerRequest, response: Http2ServerResponse): boolean;
}

type AnyServer = HttpServer | HttpsServer | Http2Server | Http2SecureServer;

function isHttp2(server: AnyServer): server is Http2Server | Http2SecureServer {
  return typeof (server as Partial<Http2Server>).updateSettings === "function";
}

/**
 * Puts `router` in front of the server's request listeners and adds the WebSocket listeners.
 *
 * @example
 * ```ts
 * attachToServer(createServer(app), hubs);
 * ```
 */
export function attachToServer(server: AnyServer, router: RequestRouter): void {
  const existing = server.listeners("request") as Array<(request: NodeRequest, response: NodeResponse) => void>;
  server.removeAllListeners("request");
  server.on("request", (request: NodeRequest, response: NodeResponse) => {
    if (router.handleRequest(request, response)) return;
    if (existing.length === 0) {
      response.writeHead(404, { "Content-Type": "text/plain" }).end("Not found");
      return;
    }
    for (const listener of existing) listener.call(server, request, response);
  });
  // HTTP/1.1, and HTTP/1.1 clients of an HTTP/2 server with allowHTTP1.
  listenAsHubwire(server, "upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (router.handleUpgrade(request, socket, head)) return;
    // Others may serve this upgrade; if no one else listens, answer instead of leaving it hanging.
    if (passOver(server, "upgrade", socket)) rejectUpgrade(socket, 400, "No WebSocket endpoint at this path.");
  });
  if (!isHttp2(server)) return;
  // Browsers open WebSockets over HTTP/2 only on servers that announce extended CONNECT.
  server.updateSettings({ enableConnectProtocol: true });
  listenAsHubwire(server, "connect", (request: Http2ServerRequest, response: Http2ServerResponse) => {
    if (router.handleConnect(request, response)) return;
    if (passOver(server, "connect", response.stream)) {
      response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("No WebSocket endpoint at this path.");
    }
  });
}
