/**
 * Reading requests and answering them through the runtime seam ({@link HttpExchange}): the parts
 * every endpoint and transport shares.
 *
 * @module
 */
import type { HttpExchange, HubRequest } from "./runtime/http-exchange.js";

/**
 * The host and port the client asked for: `Host` over HTTP/1.1, `:authority` over HTTP/2 (where
 * browsers send no `Host`).
 *
 * @example
 * ```ts
 * authorityOf(request); // "chat.example.com:8443"
 * ```
 */
export function authorityOf(request: Pick<HubRequest, "headers">): string | undefined {
  const headers = request.headers;
  const authority = headers["host"] ?? headers[":authority"];
  return typeof authority === "string" ? authority : undefined;
}

/** Characters after which a query string no longer reads the same split by hand as URLSearchParams reads it. */
const ENCODED_QUERY = /[%+?\u0080-\uffff]/;

/**
 * The first value of `name` in a query string (without its `?`), exactly as
 * `new URLSearchParams(search).get(name)` reads it, without building the whole map: a long poll
 * and its POSTs read only `id`, and parsing every parameter was a visible part of their cost.
 * Queries with escapes (`%`, `+`) or other than ASCII are left to URLSearchParams.
 *
 * @example
 * ```ts
 * queryParameter("id=abc&_=1712", "id"); // "abc"
 * ```
 */
export function queryParameter(search: string, name: string): string | null {
  if (ENCODED_QUERY.test(search)) return new URLSearchParams(search).get(name);
  let start = 0;
  while (start < search.length) {
    let end = search.indexOf("&", start);
    if (end === -1) end = search.length;
    const equals = search.indexOf("=", start);
    const keyEnd = equals !== -1 && equals < end ? equals : end;
    if (keyEnd - start === name.length && search.startsWith(name, start)) return keyEnd === end ? "" : search.slice(keyEnd + 1, end);
    start = end + 1;
  }
  return null;
}

/**
 * Answers with a status and a short text (or nothing), with its length and no caching: what every
 * refusal and every empty success of the HTTP transports sends. Once an answer has begun, only
 * ends it.
 *
 * @example
 * ```ts
 * respondText(exchange, 404, "No Connection with that ID");
 * ```
 */
export function respondText(exchange: HttpExchange, status: number, text = "", contentType = "text/plain; charset=utf-8"): void {
  // With its length: an answer without one goes chunked, three pieces where one will do.
  exchange.respond(status, { "Content-Type": contentType, "Cache-Control": "no-cache, no-store", "Content-Length": String(Buffer.byteLength(text)) }, text);
}

/**
 * Refuses a request without reading its body: drops the body, answers with the text.
 *
 * @example
 * ```ts
 * if (token === null) return refuse(exchange, 400, "Connection ID required");
 * ```
 */
export function refuse(exchange: HttpExchange, status: number, text: string): void {
  exchange.discardBody();
  respondText(exchange, status, text);
}
