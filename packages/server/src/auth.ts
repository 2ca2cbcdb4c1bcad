/**
 * Authentication: the app turns a request (and its access token) into a principal. The token is
 * read from `Authorization: Bearer` (Node clients) or the `access_token` query parameter (browsers,
 * which cannot set headers on WebSockets or EventSource). Hubwire never logs it.
 *
 * @module
 * @example
 * ```ts
 * createHubServer({
 *   hubs: { "/chat": chat },
 *   authenticate: async ({ accessToken }) => {
 *     const claims = accessToken ? await verifyJwt(accessToken) : undefined;
 *     return claims ? { userId: claims.sub, claims } : undefined;
 *   },
 * });
 * ```
 */
import type { IncomingMessage } from "node:http";
import type { ConnectionRequest, Principal } from "./connection.js";
import type { MaybePromise } from "./hub.js";

/** What the authentication hook is given. */
export interface AuthenticationRequest {
  /** The bearer token, from the header or the `access_token` query parameter. */
  readonly accessToken: string | undefined;
  /** The HTTP request (negotiate, or the transport's): cookies, headers, client address. */
  readonly request: IncomingMessage;
}

/** Returns the principal for a request, or undefined for an anonymous one. */
export type Authenticate = (request: AuthenticationRequest) => MaybePromise<Principal | undefined>;

/** The access token of a request: `Authorization: Bearer` first, then `access_token`. */
export function readAccessToken(request: IncomingMessage, query: URLSearchParams): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (match !== null) return match[1];
  }
  return query.get("access_token") ?? undefined;
}

/**
 * What a connection keeps of its request: the path without its query (which may hold the token)
 * and the headers without `Authorization` and without those that only served a WebSocket
 * handshake. Every open connection keeps this for its life, so it keeps no more than apps use.
 */
export function describeRequest(request: IncomingMessage, remoteAddress: string | undefined): ConnectionRequest {
  const url = request.url ?? "/";
  const queryAt = url.indexOf("?");
  // Kept for the connection's life: not the token, nor what only served the WebSocket handshake.
  const {
    authorization: _token,
    connection: _connection,
    upgrade: _upgrade,
    "sec-websocket-key": _key,
    "sec-websocket-version": _version,
    "sec-websocket-extensions": _extensions,
    ...headers
  } = request.headers;
  return {
    url: queryAt === -1 ? url : url.slice(0, queryAt),
    headers,
    remoteAddress,
  };
}
