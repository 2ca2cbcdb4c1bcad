/**
 * Node's side of the HTTP seam: an `IncomingMessage`/`ServerResponse` pair, or HTTP/2's
 * compatibility `Http2ServerRequest`/`Http2ServerResponse`, as an {@link HttpExchange}. The two
 * read alike for everything a hub does; where they differ (closing a refused request's socket,
 * which over HTTP/2 carries the session's other streams) this file says so.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Http2ServerRequest, type Http2ServerResponse, constants as http2Constants } from "node:http2";
import type { BodyReader, HttpExchange, HttpHeaders, HubRequest } from "../runtime/http-exchange.js";

/** A request to a hub on Node: HTTP/1.1, or HTTP/2 through Node's compatibility API. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;

/** The response to a {@link NodeRequest}. */
export type NodeResponse = ServerResponse | Http2ServerResponse;

/** How long a refused request's socket reads and drops what its client still sends, before it is destroyed. */
const LINGER_MS = 1_000;

/**
 * Closes the socket of a request whose body was refused. The answer has gone; the socket ends after
 * it, and what the client is still sending is read and dropped for a moment: destroying a socket
 * with unread data resets the connection, and a client still writing its body would then lose the
 * answer. Then the socket is destroyed, however much more the client sends.
 *
 * Over HTTP/2 the socket carries the session's other streams: only this request's stream is
 * closed, with NO_ERROR, which tells the client to stop sending a body whose answer it has.
 */
function lingerThenClose(request: NodeRequest): void {
  if ("stream" in request) {
    request.stream.close(http2Constants.NGHTTP2_NO_ERROR);
    return;
  }
  const socket = request.socket;
  if (socket.writableEnded) return;
  request.resume();
  socket.end();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/**
 * A Node request behind the seam, without its answer: a WebSocket handshake's request.
 *
 * @example
 * ```ts
 * server.on("upgrade", (request, socket, head) => hubs.openWebSocket(new NodeHubRequest(request), handshake));
 * ```
 */
export class NodeHubRequest implements HubRequest {
  readonly native: NodeRequest;

  constructor(request: NodeRequest) {
    this.native = request;
  }

  get method(): string {
    return this.native.method ?? "GET";
  }

  get url(): string {
    return this.native.url ?? "/";
  }

  get headers(): HttpHeaders {
    return this.native.headers;
  }

  get httpVersion(): string {
    return this.native.httpVersion;
  }

  get remoteAddress(): string | undefined {
    return this.native.socket?.remoteAddress;
  }
}

/**
 * A Node request and its response behind the seam. One per request; it holds nothing else.
 *
 * @example
 * ```ts
 * createServer((request, response) => hubs.handle(new NodeHttpExchange(request, response)));
 * ```
 */
export class NodeHttpExchange extends NodeHubRequest implements HttpExchange {
  readonly #response: NodeResponse;

  constructor(request: NodeRequest, response: NodeResponse) {
    super(request);
    this.#response = response;
  }

  readBody(reader: BodyReader): void {
    const request = this.native;
    let ended = false;
    // `on`, not `once`: each of these fires at most once, and `once` wraps every listener.
    request.on("data", (chunk: Buffer) => reader.data(chunk));
    request.on("end", () => {
      ended = true;
      reader.end();
    });
    request.on("error", () => reader.error("Reading the request body failed."));
    request.on("close", () => {
      if (!ended) reader.error("The request was aborted.");
    });
  }

  pauseBody(): void {
    this.native.pause();
  }

  resumeBody(): void {
    this.native.resume();
  }

  discardBody(): void {
    this.native.resume();
  }

  closeAfterAnswer(): void {
    const request = this.native;
    if (!("stream" in request)) {
      // Node ends the socket of a request that said `Connection: close` itself once the answer is
      // out, with `destroySoon`, which destroys it as soon as its own FIN is written: with the client
      // still sending, that resets the connection, and a client slow to read loses the answer.
      request.socket.destroySoon = () => lingerThenClose(request);
    }
    const response = this.#response;
    if (response.writableFinished) lingerThenClose(this.native);
    else response.once("finish", () => lingerThenClose(this.native));
  }

  setHeader(name: string, value: string): void {
    this.#response.setHeader(name, value);
  }

  get answered(): boolean {
    return this.#response.headersSent || this.#response.writableEnded;
  }

  respond(status: number, headers: Readonly<Record<string, string>>, body?: string | Uint8Array): void {
    const response = this.#response;
    if (response.headersSent || response.writableEnded) {
      if (!response.writableEnded) response.end();
      return;
    }
    (response as ServerResponse).writeHead(status, headers).end(body);
  }

  beginStream(status: number, headers: Readonly<Record<string, string>>): void {
    (this.#response as ServerResponse).writeHead(status, headers);
    // Each event leaves at once rather than waiting for more to coalesce (Nagle).
    this.native.socket?.setNoDelay(true);
  }

  write(chunk: string | Uint8Array): void {
    (this.#response as ServerResponse).write(chunk);
  }

  end(): void {
    this.#response.end();
  }

  get bufferedBytes(): number {
    return this.#response.writableLength;
  }

  onClose(listener: () => void): void {
    // A response closes once: `once` would only wrap the listener.
    this.#response.on("close", listener);
  }
}
