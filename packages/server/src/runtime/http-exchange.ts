/**
 * The runtime seam for HTTP: one request and its answer, as the hub core sees them on any runtime.
 * Node's adapter wraps `node:http` and `node:http2` requests (`node/node-http-exchange.ts`), Bun's
 * wraps a `Request` and answers with a `Response` (`bun/bun-http-exchange.ts`). Above this seam
 * nothing reads a runtime's own request or response types.
 *
 * @module
 */

/** Request headers: lower-case names, repeated ones as arrays (as Node gives them). */
export type HttpHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * A request as every runtime gives it: what the hubs, `authenticate` and `clientAddress` read.
 *
 * @example
 * ```ts
 * createHubServer({
 *   hubs,
 *   authenticate: ({ accessToken, request }) => (request.headers.cookie?.includes("session=") ? lookUp(accessToken) : undefined),
 *   clientAddress: (request) => request.remoteAddress,
 * });
 * ```
 */
export interface HubRequest {
  readonly method: string;
  /** The path and query, as sent (`/chat/negotiate?negotiateVersion=1`). */
  readonly url: string;
  /**
   * Lower-case names. Over HTTP/2 Node also lists pseudo-headers (`:authority`, `:path`); what a
   * connection keeps of them (`ctx.request.headers`) has `host` instead, as HTTP/1.1 sends.
   */
  readonly headers: HttpHeaders;
  /** `"1.1"` or `"2.0"` (`"1.0"` for old clients). */
  readonly httpVersion: string;
  /** The TCP peer's address. Behind a proxy, the proxy's. */
  readonly remoteAddress: string | undefined;
  /** The runtime's own request: Node's `IncomingMessage` or `Http2ServerRequest`, Bun's `Request`. */
  readonly native: unknown;
}

/** Where a request's body goes as it arrives. */
export interface BodyReader {
  data(chunk: Uint8Array): void;
  /** The body was read to its end. */
  end(): void;
  /** It broke off (the client aborted, the connection reset). */
  error(reason: string): void;
}

/**
 * A request with its answer. Each answer is given once: `respond` whole, or `beginStream` then
 * `write`s and `end`; later answers are ignored.
 *
 * @example
 * ```ts
 * function answerNotFound(exchange: HttpExchange): void {
 *   exchange.discardBody();
 *   exchange.respond(404, { "Content-Type": "text/plain; charset=utf-8" }, "No Connection with that ID");
 * }
 * ```
 */
export interface HttpExchange extends HubRequest {
  /** Delivers the body to `reader` as it arrives (once per exchange). */
  readBody(reader: BodyReader): void;
  /** Stops and restarts delivering the body: back-pressure. */
  pauseBody(): void;
  resumeBody(): void;
  /** Reads and drops whatever body the client sends: what a request answered without it needs. */
  discardBody(): void;
  /**
   * After refusing a body the client may still be sending (too large, too slow): ends the answer
   * and then the connection it came on (HTTP/1.1) or its stream (HTTP/2), so the client stops.
   */
  closeAfterAnswer(): void;

  /** Adds a header to whatever answer follows (CORS headers, set before the request is routed). */
  setHeader(name: string, value: string): void;
  /** Whether an answer has begun. */
  readonly answered: boolean;
  /** Answers whole: status, headers (give `Content-Length`) and body. Once answered, only ends the answer. */
  respond(status: number, headers: Readonly<Record<string, string>>, body?: string | Uint8Array): void;
  /** Begins an answer that stays open (an event stream): `write` sends each chunk at once. */
  beginStream(status: number, headers: Readonly<Record<string, string>>): void;
  write(chunk: string | Uint8Array): void;
  /** Ends a streamed answer. */
  end(): void;
  /** Bytes written to a streamed answer and not yet sent. */
  readonly bufferedBytes: number;
  /** Called once when the exchange is over: the answer was sent, or the client went away first. */
  onClose(listener: () => void): void;
}
