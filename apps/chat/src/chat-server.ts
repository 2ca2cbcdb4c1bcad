/**
 * The chat sample's server: the page, its script, and the chat hub at /chat. In memory by
 * default; with a Redis URL, history, presence and the hub itself are shared by every node.
 */

import { createServer, type Server } from "node:http";
import { createSecureServer, type Http2SecureServer, type Http2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { createHubServer, type NodeRequest, type NodeResponse } from "@hubwire/server";
import { chatPages, chatSetup } from "./chat-setup.js";

export interface ChatServerOptions {
  readonly port?: number;
  readonly host?: string;
  /** Share rooms with other nodes through this Redis. */
  readonly redisUrl?: string;
  /** Where index.html and app.js are. Default: the package's public/ and dist/public/. */
  readonly pageDir?: string;
  readonly scriptPath?: string;
  /** Serve over TLS with HTTP/2 (and HTTP/1.1 for clients without it) with this key and certificate. */
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer };
}

export interface ChatServer {
  readonly url: string;
  readonly server: Server | Http2SecureServer;
  close(): Promise<void>;
}

export async function startChatServer(options: ChatServerOptions = {}): Promise<ChatServer> {
  const { options: hubOptions, redisClients: redis } = await chatSetup(options.redisUrl);
  const hubs = createHubServer(hubOptions);
  const pages = await chatPages(options);
  const serve = async (request: NodeRequest, response: NodeResponse) => {
    const answer = await pages((request.url ?? "/").split("?")[0]!);
    response.writeHead(answer.status, { "Content-Type": answer.contentType }).end(answer.body);
  };
  // Over TLS, browsers load the page and run the hub over one HTTP/2 connection, WebSockets included.
  const server =
    options.tls === undefined ? createServer(serve) : createSecureServer({ ...options.tls, allowHTTP1: true, settings: { maxConcurrentStreams: 100 } }, serve);
  // HTTP/2 sessions outlive their requests: close() ends them, as closeAllConnections does for HTTP/1.1.
  const sessions = new Set<Http2Session>();
  if (options.tls !== undefined) {
    server.on("session", (session: Http2Session) => {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
    });
  }
  hubs.attach(server);
  await new Promise<void>((resolve) => server.listen(options.port ?? 3000, options.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls === undefined ? "http" : "https"}://${options.host ?? "127.0.0.1"}:${port}/`,
    server,
    async close() {
      await hubs.close();
      if ("closeAllConnections" in server) server.closeAllConnections();
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const client of redis) client.disconnect();
    },
  };
}
