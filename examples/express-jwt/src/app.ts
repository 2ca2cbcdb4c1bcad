/**
 * The example's server: an Express 5 app with the inbox hub at /inbox (Hubwire's Express adapter)
 * and a /token route that issues a JWT for a user name (a stand-in for your identity provider).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createHubServer, type HubServer, useHubsWithExpress } from "@hubwire/server";
import express from "express";
import { inbox } from "./inbox-hub.js";
import { issueToken, principalFromToken, signingKey } from "./tokens.js";

export interface ExampleServerOptions {
  /** The HS256 secret, at least 32 bytes. */
  readonly secret: string;
  /** Default 5000; 0 picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Users whose tokens carry the `admin` role. Default `["admin"]`. */
  readonly adminUsers?: readonly string[];
}

export interface ExampleServer {
  /** Where it listens, e.g. `http://127.0.0.1:5000`; the hub is at `${url}/inbox`. */
  readonly url: string;
  readonly hubs: HubServer;
  close(): Promise<void>;
}

const userNamePattern = /^[A-Za-z0-9_.-]{1,32}$/;

export async function startServer(options: ExampleServerOptions): Promise<ExampleServer> {
  const key = signingKey(options.secret);
  const admins = new Set(options.adminUsers ?? ["admin"]);
  const hubs = createHubServer({
    hubs: { "/inbox": inbox },
    // `accessToken` is the `Authorization: Bearer` header, or else the `access_token` query
    // parameter: browsers cannot set headers on a WebSocket or an EventSource, so SignalR's
    // clients put the token there. ASP.NET Core needs an OnMessageReceived handler for that;
    // Hubwire reads both, and never logs either.
    authenticate: ({ accessToken }) => (accessToken === undefined ? undefined : principalFromToken(key, accessToken)),
  });

  const app = express();
  const server = createServer(app);
  // First, before any body parser: the hub transports read their own request bodies.
  useHubsWithExpress(app, server, hubs);

  // The demo's identity provider: a token for any well-formed name. A real app checks a password
  // or delegates to its IdP here.
  app.post("/token", express.json(), async (request, response) => {
    const user: unknown = request.body?.user;
    if (typeof user !== "string" || !userNamePattern.test(user)) {
      response.status(400).json({ error: "Send { \"user\": \"<1 to 32 letters, digits, '.', '_' or '-'>\" }." });
      return;
    }
    response.json({ token: await issueToken(key, user, admins.has(user) ? "admin" : "user") });
  });
  app.get("/health", (_request, response) => {
    response.send("ok");
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 5000, options.host ?? "127.0.0.1", () => (server.off("error", reject), resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    hubs,
    async close() {
      // The hubs first: calls in flight finish, clients get a Close that lets them reconnect elsewhere.
      await hubs.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
