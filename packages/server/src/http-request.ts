/**
 * The HTTP requests a hub serves: Node's HTTP/1.1 `IncomingMessage`/`ServerResponse`, or the
 * HTTP/2 compatibility `Http2ServerRequest`/`Http2ServerResponse` when the hubs are attached to a
 * `node:http2` server. The two read alike for everything a hub does (method, url, headers, the
 * body's events, writeHead/write/end); where they differ (HTTP/2 names the host `:authority`, and
 * its `socket` is the connection every stream of the session shares) the helpers here say so.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

/**
 * A request to a hub: HTTP/1.1, or HTTP/2 through Node's compatibility API.
 *
 * @example
 * ```ts
 * const clientAddress = (request: HubRequest) => request.socket.remoteAddress;
 * ```
 */
export type HubRequest = IncomingMessage | Http2ServerRequest;

/** The response to a {@link HubRequest}. */
export type HubResponse = ServerResponse | Http2ServerResponse;

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
  const authority = headers.host ?? headers[":authority"];
  return typeof authority === "string" ? authority : undefined;
}

/**
 * Writes a chunk of a streamed response (both kinds take a string or bytes; TypeScript cannot
 * call the union's overloads directly).
 *
 * @example
 * ```ts
 * writeChunk(response, "data: hello\r\n\r\n");
 * ```
 */
export function writeChunk(response: HubResponse, chunk: string | Uint8Array): boolean {
  return (response as ServerResponse).write(chunk);
}

/**
 * Answers with a status and a short text (or nothing), with its length and no caching: what every
 * refusal and every empty success of the HTTP transports sends. Ignored once an answer has begun.
 *
 * @example
 * ```ts
 * respondText(response, 404, "No Connection with that ID");
 * ```
 */
export function respondText(response: HubResponse, status: number, text = "", contentType = "text/plain; charset=utf-8"): void {
  if (response.headersSent || response.writableEnded) {
    if (!response.writableEnded) response.end();
    return;
  }
  // With its length: an answer without one goes chunked, three pieces where one will do.
  (response as ServerResponse)
    .writeHead(status, { "Content-Type": contentType, "Cache-Control": "no-cache, no-store", "Content-Length": String(Buffer.byteLength(text)) })
    .end(text);
}
