/**
 * CORS for negotiate and the HTTP transports. The official clients send credentials
 * (`withCredentials` defaults to true), so an allowed origin is echoed exactly, never `*`.
 *
 * @module
 */

import { normalizeOrigin } from "./origin-policy.js";
import type { HttpExchange } from "./runtime/http-exchange.js";

/** Cross-origin settings, shared with the WebSocket origin check. */
export interface CorsOptions {
  /** Origins (`https://app.example.com`) allowed to call the hub from a browser. */
  readonly origins?: readonly string[];
}

const allowedHeaders = "Authorization, Content-Type, X-Requested-With, X-SignalR-User-Agent";

/** Builds the allow-list once, normalized for exact comparison. */
export function originAllowList(options: CorsOptions | undefined): ReadonlySet<string> {
  const list = new Set<string>();
  for (const origin of options?.origins ?? []) {
    const normalized = normalizeOrigin(origin);
    if (normalized === undefined) throw new TypeError(`CORS origin '${origin}' is not a valid origin (scheme://host[:port]).`);
    list.add(normalized);
  }
  return list;
}

/**
 * Adds CORS headers for an allowed origin. Answers a preflight (OPTIONS) itself and returns true
 * then; returns false when the request still needs handling.
 */
export function applyCors(exchange: HttpExchange, allowList: ReadonlySet<string>): boolean {
  const origin = exchange.headers["origin"];
  const allowed = typeof origin === "string" && allowList.has(normalizeOrigin(origin) ?? "");
  if (allowed) {
    exchange.setHeader("Access-Control-Allow-Origin", origin);
    exchange.setHeader("Access-Control-Allow-Credentials", "true");
    exchange.setHeader("Vary", "Origin");
  }
  if (exchange.method !== "OPTIONS") return false;
  if (allowed) {
    exchange.setHeader("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
    exchange.setHeader("Access-Control-Allow-Headers", allowedHeaders);
    exchange.setHeader("Access-Control-Max-Age", "600");
  }
  exchange.discardBody();
  exchange.respond(204, {});
  return true;
}
