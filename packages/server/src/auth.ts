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
import type { ConnectionRequest, Principal } from "./connection-request.js";
import { authorityOf } from "./http-request.js";
import type { HttpHeaders, HubRequest } from "./runtime/http-exchange.js";
import type { MaybePromise } from "./hub.js";

/** What the authentication hook is given. */
export interface AuthenticationRequest {
  /** The bearer token, from the header or the `access_token` query parameter. */
  readonly accessToken: string | undefined;
  /**
   * The HTTP request (negotiate, or the transport's): cookies, headers, client address; the
   * runtime's own request is `request.native`.
   */
  readonly request: HubRequest;
}

/** Returns the principal for a request, or undefined for an anonymous one. */
export type Authenticate = (request: AuthenticationRequest) => MaybePromise<Principal | undefined>;

/** The access token of a request: `Authorization: Bearer` first, then `access_token`. */
export function readAccessToken(request: HubRequest, query: URLSearchParams): string | undefined {
  const header = request.headers["authorization"];
  if (typeof header === "string") {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (match !== null) return match[1];
  }
  return query.get("access_token") ?? undefined;
}

/**
 * What a connection keeps of its request: the path, its query without the tokens, and the headers
 * without `Authorization` and without those that only served a WebSocket handshake; over HTTP/2
 * without the pseudo-headers, with `host` as HTTP/1.1 would have it. Every open connection keeps
 * this for its life, so it keeps no more than apps use.
 */
export function describeRequest(request: HubRequest, remoteAddress: string | undefined): ConnectionRequest {
  const url = request.url;
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
  return new DescribedRequest(
    queryAt === -1 ? url : url.slice(0, queryAt),
    request.httpVersion.startsWith("2") ? withoutPseudoHeaders(headers, authorityOf(request)) : headers,
    remoteAddress,
    queryAt === -1 ? "" : withoutTokens(url.slice(queryAt + 1)),
  );
}

/** Query parameters that carry secrets: the connection token and the access token. */
const secretParameters = ["id", "access_token"];

function withoutTokens(search: string): string {
  if (!secretParameters.some((name) => search.includes(name))) return search;
  const query = new URLSearchParams(search);
  for (const name of secretParameters) query.delete(name);
  return query.toString();
}

/** A class, so that `query` is a getter on the prototype rather than a closure per connection. */
class DescribedRequest implements ConnectionRequest {
  readonly #search: string;

  constructor(
    readonly url: string,
    readonly headers: HttpHeaders,
    readonly remoteAddress: string | undefined,
    search: string,
  ) {
    this.#search = search;
  }

  get query(): URLSearchParams {
    return new URLSearchParams(this.#search);
  }
}

/** HTTP/2's headers as HTTP/1.1 has them: no pseudo-headers (the path is `url`), `:authority` as `host`. */
function withoutPseudoHeaders(headers: HttpHeaders, authority: string | undefined): HttpHeaders {
  // A new object rather than deletes: deleting keys turns an object into a slower, larger dictionary.
  const kept: Record<string, string | string[] | undefined> = authority === undefined ? {} : { host: authority };
  for (const name of Object.keys(headers)) if (!name.startsWith(":")) kept[name] = headers[name];
  return kept;
}
