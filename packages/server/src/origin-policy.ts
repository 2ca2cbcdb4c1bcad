/**
 * Which `Origin`s may open a WebSocket. Browsers send cookies with cross-site WebSocket
 * requests and CORS does not apply to them, so a page on another site could act as the user
 * (cross-site WebSocket hijacking) unless the server checks the origin itself.
 *
 * @module
 */
import { authorityOf } from "./http-request.js";
import type { HubRequest } from "./runtime/http-exchange.js";

/** Normalizes `scheme://host[:port]`, dropping default ports, for exact comparison. */
export function normalizeOrigin(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    if (url.origin === "null") return undefined;
    return url.origin.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Decides whether a request's `Origin` may connect:
 * - no `Origin` header (not a browser): allowed;
 * - an `Origin` on the allow-list (exact scheme, host and port): allowed;
 * - with `allowSameOrigin`, an `Origin` whose host and port equal the request's `Host` (`:authority` over HTTP/2): allowed;
 * - an empty allow-list with `allowSameOrigin` false allows every origin (documented as unsafe).
 *
 * @example
 * ```ts
 * const allowed = isOriginAllowed(request, new Set(["https://app.example.com"]), true);
 * ```
 */
export function isOriginAllowed(request: Pick<HubRequest, "headers">, allowList: ReadonlySet<string>, allowSameOrigin: boolean): boolean {
  const header = request.headers["origin"];
  if (typeof header !== "string") return true;
  if (allowList.size === 0 && !allowSameOrigin) return true;
  const origin = normalizeOrigin(header);
  if (origin === undefined) return false;
  if (allowList.has(origin)) return true;
  if (!allowSameOrigin) return false;
  const host = authorityOf(request)?.toLowerCase();
  return host !== undefined && (origin === `http://${host}` || origin === `https://${host}` || sameHostWithDefaultPort(origin, host));
}

function sameHostWithDefaultPort(origin: string, host: string): boolean {
  // Host may carry the default port explicitly ("example.com:443") where Origin leaves it out.
  return origin === `https://${host.replace(/:443$/, "")}` || origin === `http://${host.replace(/:80$/, "")}`;
}
