/**
 * Who is on the other end of a connection and where it came from: the principal authentication
 * established, and what the connection keeps of its request. Both live as long as the connection.
 *
 * @module
 */
import type { HttpHeaders } from "./runtime/http-exchange.js";

/** Who is on the other end, as authentication established it. */
export interface Principal {
  /** The user id that `clients.user(id)` addresses. */
  readonly userId?: string;
  /** Anything the authentication hook found (claims, roles, a tenant). */
  readonly claims?: Readonly<Record<string, unknown>>;
  /**
   * When the authentication runs out, in milliseconds since the epoch (a JWT's `exp` times
   * 1000). The connection is closed then, with a Close message that lets the client reconnect
   * and so present a fresh token (ASP.NET Core's `CloseOnAuthenticationExpiration`); a request
   * whose principal has already expired is refused with 401. A stateful reconnect by the same
   * user takes its new token's expiry. Unset: the connection lives as long as it is open; set
   * but not a finite number (`undefined * 1000` for a token without `exp`): refused, with a
   * warning in the log.
   */
  readonly expiresAtMs?: number;
}

/**
 * What a connection remembers of the HTTP request that opened it: never the token, nor the
 * headers that only served a WebSocket handshake (`Connection`, `Upgrade`, `Sec-WebSocket-Key`,
 * `-Version`, `-Extensions`).
 */
export interface ConnectionRequest {
  /** The path, without the query. */
  readonly url: string;
  /**
   * The query string the client connected with (its own parameters, and `negotiateVersion` or
   * the cache buster its transport adds), without the connection token (`id`) and the access
   * token (`access_token`). A fresh copy each time it is read.
   */
  readonly query: URLSearchParams;
  readonly headers: HttpHeaders;
  /** The client's address: the server's `clientAddress` option, by default the TCP peer's. */
  readonly remoteAddress: string | undefined;
}
