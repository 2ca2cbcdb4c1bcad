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
import type { MaybePromise } from "./hub.js";
import type { Logger } from "./logger.js";
import type { HttpHeaders, HubRequest } from "./runtime/http-exchange.js";

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

/** What authenticating a transport or negotiate request came to: a principal (none: anonymous), or a refusal. */
export type AuthOutcome = { readonly principal: Principal | undefined } | { readonly status: 401 | 403; readonly message: string };

/** What {@link admitPrincipal} checks a request against. */
export interface AdmissionRules {
  readonly authenticate: Authenticate | undefined;
  readonly requireAuthentication: boolean;
  /** The hub's (or handler's) own check, given the principal and what the connection keeps of its request. */
  readonly authorize: ((principal: Principal | undefined, request: ConnectionRequest) => MaybePromise<boolean>) | undefined;
  readonly describe: (request: HubRequest) => ConnectionRequest;
  readonly logger: Logger;
  /** The endpoint's path, for log lines. */
  readonly path: string;
}

/**
 * Authenticates a request and checks its principal: 401 without one when authentication is
 * required, 401 for an expired one (or an expiry that is not a number: it fails closed), 403 when
 * the hub's `authorize` refuses. An `authenticate` that throws is logged and counts as anonymous.
 *
 * @example
 * ```ts
 * const outcome = await admitPrincipal(request, query, rules);
 * if ("status" in outcome) return refuse(exchange, outcome.status, outcome.message);
 * ```
 */
export async function admitPrincipal(request: HubRequest, query: URLSearchParams, rules: AdmissionRules, accessToken?: string): Promise<AuthOutcome> {
  let principal: Principal | undefined;
  if (rules.authenticate !== undefined) {
    try {
      principal = await rules.authenticate({ accessToken: accessToken ?? readAccessToken(request, query), request });
    } catch (error) {
      rules.logger.log("warn", "Authentication threw; treating the request as unauthenticated.", { path: rules.path, error });
      principal = undefined;
    }
  }
  if (principal === undefined && rules.requireAuthentication) return { status: 401, message: "Unauthorized" };
  const expiresAtMs = principal?.expiresAtMs;
  if (expiresAtMs !== undefined && !(expiresAtMs > Date.now())) {
    // Not a number (a token without `exp`, say) fails closed: it must not mean "never expires".
    if (!Number.isFinite(expiresAtMs)) {
      rules.logger.log("warn", "authenticate returned a principal whose expiresAtMs is not a finite number; refusing it.", { path: rules.path });
    }
    return { status: 401, message: "Unauthorized: the token has expired." };
  }
  if (rules.authorize !== undefined && !(await rules.authorize(principal, rules.describe(request)))) {
    return { status: 403, message: "Forbidden" };
  }
  return { principal };
}

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
