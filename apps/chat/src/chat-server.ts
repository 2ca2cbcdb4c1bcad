/**
 * The chat sample's server: the page, its script, and the chat hub at /chat, for SignalR clients
 * and, through @hubwire/socket.io, for socket.io clients (the namespace /chat, the same rooms). In
 * memory by default; with a Redis URL, history, presence and the hub itself are shared by every node.
 */

import { createServer, type Server } from "node:http";
import { createSecureServer, type Http2SecureServer, type Http2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { type Admin, createAdmin } from "@hubwire/admin";
import { createHubServer, type NodeRequest, type NodeResponse } from "@hubwire/server";
import { serveHubs } from "@hubwire/socket.io";
import { Server as SocketIoServer } from "socket.io";
import type { ChatNode } from "./chat-node.js";
import { type ChatSetup, chatPages, chatSetup } from "./chat-setup.js";

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
  /**
   * The admin page at /admin opens to whoever has visited /admin/login?token=<this token>. Without
   * one it is mounted only on a loopback host, open to anyone on this machine (local development).
   */
  readonly adminToken?: string;
  /** Where the sample's own lines go: Redis lost and back, failures no caller hears of. Default `console.error`. */
  readonly log?: (line: string) => void;
  /** A store call Redis has not answered within this long fails, and the page says so. Default 2 s. */
  readonly storeTimeoutMs?: number;
}

export interface ChatServer {
  readonly url: string;
  readonly server: Server | Http2SecureServer;
  /** This node as its pages see it: its id, and whether Redis answers. */
  readonly node: ChatNode;
  close(): Promise<void>;
}

export async function startChatServer(options: ChatServerOptions = {}): Promise<ChatServer> {
  const setup = await chatSetup(options.redisUrl, { log: options.log, storeTimeoutMs: options.storeTimeoutMs });
  const { hub, options: hubOptions } = setup;
  const admin = chatAdmin(hub, options.host ?? "127.0.0.1", options.adminToken);
  const hubs = createHubServer(admin === undefined ? hubOptions : { ...hubOptions, hubs: { ...hubOptions.hubs, [admin.hubPath]: admin.hub } });
  admin?.attach(hubs);
  const pages = await chatPages(options);
  const serve = async (request: NodeRequest, response: NodeResponse) => {
    if (admin?.handleRequest(request, response) === true) return;
    if (options.adminToken !== undefined && adminLogin(request, response, options.adminToken)) return;
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
  // socket.io on the same server, after the hubs: each hub path is also a socket.io namespace
  // (/chat), and socket.io serves its browser client under /socket.io/ for the ?client=socket.io
  // page. destroyUpgrade: false, or engine.io would cut the upgrades it does not own: the hubs'.
  // Over TLS (HTTP/2) browsers open WebSockets as HTTP/2 streams, which engine.io does not take:
  // socket.io pages fall back to long polling there.
  const io = new SocketIoServer(server, { destroyUpgrade: false });
  serveHubs(io, hubs, hubOptions.hubs ?? {});
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 3000, options.host ?? "127.0.0.1", () => (server.off("error", reject), resolve()));
    });
  } catch (error) {
    // One line that says what to do (server.ts prints it), and nothing left open behind it.
    await hubs.close();
    await io.close();
    setup.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === "EADDRINUSE"
        ? `Port ${options.port ?? 3000} is in use: stop what uses it, or set PORT to another port.`
        : `Could not listen on ${options.host ?? "127.0.0.1"}:${options.port ?? 3000}: ${(error as Error).message}`,
    );
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls === undefined ? "http" : "https"}://${options.host ?? "127.0.0.1"}:${port}/`,
    server,
    node: setup.node,
    async close() {
      await hubs.close();
      // The socket.io clients the hubs have not ended, and its engine; it closes the HTTP server too, which the lines below wait for.
      await io.close();
      if ("closeAllConnections" in server) server.closeAllConnections();
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      setup.close();
    },
  };
}

/** The cookie that opens the admin page, once /admin/login has set it. */
const adminCookie = "hubwire-chat-admin";

/**
 * The admin page (`@hubwire/admin`) for the chat hub: behind the token's cookie, or, with no
 * token, only on a loopback host (local development). Undefined when neither holds.
 */
function chatAdmin(hub: ChatSetup["hub"], host: string, token: string | undefined): Admin | undefined {
  if (token !== undefined) {
    return createAdmin({ hubs: { chat: hub }, authorize: ({ headers }) => parseCookies(headers["cookie"])[adminCookie] === token });
  }
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "::1") {
    console.warn("The admin page is off: set ADMIN_TOKEN to serve it on a host other than this machine's loopback.");
    return undefined;
  }
  return createAdmin({ hubs: { chat: hub }, localDevelopment: true });
}

/** `GET /admin/login?token=...`: sets the admin cookie for the right token and goes to the page; 403 otherwise. */
function adminLogin(request: NodeRequest, response: NodeResponse, token: string): boolean {
  const url = new URL(request.url ?? "/", "http://localhost");
  if (url.pathname !== "/admin/login") return false;
  if (url.searchParams.get("token") !== token) {
    response.writeHead(403, { "Content-Type": "text/plain; charset=utf-8" }).end("Wrong admin token.");
    return true;
  }
  response.writeHead(303, { Location: "/admin", "Set-Cookie": `${adminCookie}=${encodeURIComponent(token)}; Path=/admin; HttpOnly; SameSite=Strict` }).end();
  return true;
}

function parseCookies(header: string | string[] | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (Array.isArray(header) ? header.join(";") : (header ?? "")).split(";")) {
    const at = part.indexOf("=");
    if (at > 0) cookies[part.slice(0, at).trim()] = decodeURIComponent(part.slice(at + 1).trim());
  }
  return cookies;
}
