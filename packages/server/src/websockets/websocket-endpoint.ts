/**
 * The raw WebSocket layer, for apps that need no hub: ASP.NET Core's WebSocket middleware, in
 * Node. An endpoint answers plain HTTP with 400, refuses an `Origin` outside its allow-list with
 * 403 before the upgrade, pings at an interval and closes a silent client, and hands each socket
 * to a handler that owns it until its promise settles.
 *
 * @module
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { createWebSocketEndpoint } from "@hubwire/server";
 *
 * const echo = createWebSocketEndpoint(async (socket) => {
 *   for await (const message of socket) socket.send(message.data, { binary: message.isBinary });
 * }, { allowedOrigins: ["https://app.example.com"], keepAliveIntervalMs: 120_000 });
 * const server = createServer((request, response) => echo.handleRequest(request, response) || response.end());
 * server.on("upgrade", (request, socket, head) => echo.handleUpgrade(request, socket, head));
 * ```
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type {
  IncomingHttpHeaders as Http2Headers,
  Http2SecureServer,
  Http2Server,
  Http2ServerRequest,
  Http2ServerResponse,
  ServerHttp2Stream,
} from "node:http2";
import type { Duplex } from "node:stream";
import { type RawData, WebSocket } from "ws";
import { monotonicNow } from "../monotonic-clock.js";
import type { NodeRequest, NodeResponse } from "../node/node-http-exchange.js";
import { normalizeOrigin } from "../origin-policy.js";
import { deliverFragments } from "./fragment-delivery.js";
import { listenAsHubwire, passOver } from "./unclaimed-requests.js";
import { rejectUpgrade } from "./upgrade-response.js";
import { WebSocketAcceptor } from "./websocket-acceptor.js";

/** permessage-deflate settings (RFC 7692). */
export interface CompressionOptions {
  /** The server's LZ77 window, 8 to 15 bits. Default 15. */
  readonly serverMaxWindowBits?: number;
  /** Reset the server's compression context after each message. Default false. */
  readonly serverNoContextTakeover?: boolean;
  /** Ask the client to reset its context after each message. Default false. */
  readonly clientNoContextTakeover?: boolean;
  /** Messages smaller than this are sent uncompressed. Default 1024. */
  readonly thresholdBytes?: number;
}

/** Options of {@link createWebSocketEndpoint}. Durations in milliseconds, sizes in bytes. */
export interface WebSocketEndpointOptions {
  /**
   * Origins (`https://app.example.com`) allowed to connect; others get 403 before the upgrade.
   * Empty (the default) allows every origin, as ASP.NET Core does: any web page can then open a
   * socket with its visitors' cookies, so set it whenever cookies authenticate.
   */
  readonly allowedOrigins?: readonly string[];
  /** Ping frames at this interval. Default 2 minutes, as the seed's middleware. */
  readonly keepAliveIntervalMs?: number;
  /** Close a client that sent nothing (pongs included) for this long. Default twice the interval. */
  readonly clientTimeoutMs?: number;
  /** The largest message, after inflating; larger closes with 1009. Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** permessage-deflate; off unless given (compressing secrets with attacker data invites CRIME/BREACH). */
  readonly compression?: CompressionOptions | false;
  /**
   * `"whole"` (default) delivers each message once, assembled; `"each"` delivers the fragments of
   * a fragmented message as they arrive, `endOfMessage` marking the last (compressed messages stay whole).
   */
  readonly fragments?: "whole" | "each";
}

/** One message (or fragment) as the handler receives it. */
export interface EndpointMessage {
  readonly data: Buffer;
  readonly isBinary: boolean;
  /** False for a fragment that more of the same message follows (only with `fragments: "each"`). */
  readonly endOfMessage: boolean;
  /** Text frames as a string. */
  text(): string;
}

/** How the socket ended. */
export interface EndpointClose {
  readonly code: number;
  readonly reason: string;
  /** Who closed it: the client, the handler (or its end), or the client-silence timeout. */
  readonly initiatedBy: "client" | "server" | "timeout";
}

/** What the handler knows of the request that opened its socket. */
export interface EndpointRequest {
  readonly url: string;
  readonly headers: IncomingHttpHeaders | Http2Headers;
  /** "1.1" for an HTTP/1.1 upgrade, "2.0" for an extended CONNECT over HTTP/2 (RFC 8441). */
  readonly httpVersion: string;
  /** The TCP peer's address (behind a reverse proxy, the proxy's: read its forwarded header). */
  readonly remoteAddress: string | undefined;
}

/** A socket owned by the handler. Iterate it for messages; sends after the end are ignored. */
export interface EndpointSocket extends AsyncIterable<EndpointMessage> {
  readonly request: EndpointRequest;
  /** The subprotocol and extensions agreed (`permessage-deflate; ...`), for diagnostics. */
  readonly extensions: string;
  /** Whether it can still send. */
  readonly isOpen: boolean;
  /** Sends one message; `compress: false` keeps this one uncompressed (RSV1 clear). False once closed. */
  send(data: string | Uint8Array, options?: { readonly binary?: boolean; readonly compress?: boolean }): boolean;
  /** Starts the close handshake with a status code and description. */
  close(code?: number, reason?: string): void;
  /** Settles when the socket has ended, with how. */
  readonly closed: Promise<EndpointClose>;
}

/** Handles one socket; the connection stays open until the returned promise settles. */
export type WebSocketHandler = (socket: EndpointSocket) => Promise<void> | void;

/** A mountable endpoint: route requests and upgrades for its path to it. */
export interface WebSocketEndpoint {
  /** Answers a plain HTTP request (HTTP/1.1 or HTTP/2) to the endpoint's path: 400, as it serves WebSockets only. */
  handleRequest(request: NodeRequest, response: NodeResponse): true;
  /** Checks the origin and upgrades. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * Serves an HTTP/2 stream: an extended CONNECT with `:protocol: websocket` (RFC 8441) becomes a
   * socket like any other. Returns false for a stream that is not one (leave it to the app).
   */
  handleHttp2Stream(stream: ServerHttp2Stream, headers: Http2Headers): boolean;
  /**
   * The same for a server that uses Node's compatibility API (a `'request'` listener): it hands
   * CONNECT streams to `'connect'` listeners as a request and a response.
   */
  handleConnect(request: Http2ServerRequest, response: Http2ServerResponse): boolean;
  /**
   * Serves `path` on an `http2` server: announces extended CONNECT (RFC 8441) and takes the
   * WebSocket requests for `path`, whether the app serves its other requests with a `'request'`
   * listener or from `'stream'` events; with `allowHTTP1`, HTTP/1.1 upgrades to `path` too.
   */
  attachHttp2(server: Http2Server | Http2SecureServer, path: string): void;
  /** Sockets open now. */
  readonly openCount: number;
  /** Closes every socket with 1001 (going away). */
  close(): void;
}

class Socket implements EndpointSocket {
  readonly request: EndpointRequest;
  readonly closed: Promise<EndpointClose>;
  readonly #ws: WebSocket;
  readonly #queue: EndpointMessage[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  #initiatedBy: EndpointClose["initiatedBy"] | undefined;
  lastHeardAt = monotonicNow();

  constructor(ws: WebSocket, request: EndpointRequest, fragments: "whole" | "each") {
    this.#ws = ws;
    this.request = request;
    const deliver = (data: Buffer, isBinary: boolean, endOfMessage: boolean) => {
      this.#queue.push({ data, isBinary, endOfMessage, text: () => data.toString("utf8") });
      this.#notify();
    };
    if (fragments === "each") deliverFragments(ws, (data, isBinary) => deliver(data, isBinary, false));
    ws.on("message", (data: RawData, isBinary: boolean) => {
      deliver(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data), isBinary, true);
    });
    ws.on("pong", () => (this.lastHeardAt = monotonicNow()));
    ws.on("ping", () => (this.lastHeardAt = monotonicNow()));
    ws.on("message", () => (this.lastHeardAt = monotonicNow()));
    ws.on("error", () => undefined);
    this.closed = new Promise((resolve) =>
      ws.once("close", (code: number, reason: Buffer) => {
        this.#ended = true;
        this.#notify();
        resolve({ code, reason: reason.toString("utf8"), initiatedBy: this.#initiatedBy ?? "client" });
      }),
    );
  }

  get extensions(): string {
    return this.#ws.extensions;
  }

  get isOpen(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  send(data: string | Uint8Array, options: { readonly binary?: boolean; readonly compress?: boolean } = {}): boolean {
    if (!this.isOpen) return false;
    this.#ws.send(data, { binary: options.binary ?? typeof data !== "string", compress: options.compress ?? true });
    return true;
  }

  close(code = 1000, reason = "", initiatedBy: EndpointClose["initiatedBy"] = "server"): void {
    if (this.#ws.readyState === WebSocket.CLOSING || this.#ws.readyState === WebSocket.CLOSED) return;
    this.#initiatedBy ??= initiatedBy;
    this.#ws.close(code, reason);
    // A peer that never answers the close frame must not hold the socket.
    setTimeout(() => this.#ws.terminate(), 5_000).unref();
  }

  ping(): void {
    if (this.isOpen) this.#ws.ping();
  }

  [Symbol.asyncIterator](): AsyncIterator<EndpointMessage> {
    return {
      next: async () => {
        while (this.#queue.length === 0 && !this.#ended) await new Promise<void>((resolve) => (this.#wake = resolve));
        const message = this.#queue.shift();
        return message === undefined ? { value: undefined, done: true } : { value: message, done: false };
      },
    };
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/**
 * Creates a raw WebSocket endpoint.
 *
 * @example
 * ```ts
 * const endpoint = createWebSocketEndpoint((socket) => socket.closed.then(() => undefined));
 * ```
 */
export function createWebSocketEndpoint(handler: WebSocketHandler, options: WebSocketEndpointOptions = {}): WebSocketEndpoint {
  const allowList = new Set((options.allowedOrigins ?? []).map((origin) => normalizeOrigin(origin) ?? origin));
  const keepAliveIntervalMs = options.keepAliveIntervalMs ?? 120_000;
  const clientTimeoutMs = options.clientTimeoutMs ?? 2 * keepAliveIntervalMs;
  const compression = options.compression === undefined || options.compression === false ? false : options.compression;
  const acceptor = new WebSocketAcceptor({
    maxPayloadBytes: options.maxMessageBytes ?? 1024 * 1024,
    perMessageDeflate:
      compression === false
        ? false
        : {
            serverMaxWindowBits: compression.serverMaxWindowBits ?? 15,
            serverNoContextTakeover: compression.serverNoContextTakeover ?? false,
            clientNoContextTakeover: compression.clientNoContextTakeover ?? false,
            threshold: compression.thresholdBytes ?? 1024,
          },
  });
  const open = new Set<Socket>();
  const originAllowed = (origin: string | undefined) => allowList.size === 0 || origin === undefined || allowList.has(normalizeOrigin(origin) ?? "");

  /** Opens an extended CONNECT stream (RFC 8441) as a socket, or refuses it with a status. */
  const openStream = (stream: ServerHttp2Stream, headers: Http2Headers) => {
    stream.on("error", () => undefined);
    const origin = headers["origin"];
    if (!originAllowed(typeof origin === "string" ? origin : undefined)) {
      stream.respond({ ":status": 403, "content-type": "text/plain; charset=utf-8" });
      stream.end("This origin may not open a WebSocket here.");
      return;
    }
    if (WebSocketAcceptor.refusedHttp2Version(stream, headers)) return;
    // RFC 8441: a 200 opens the stream as the WebSocket's byte stream.
    const ws = acceptor.acceptHttp2Stream(stream);
    adopt(ws, { url: String(headers[":path"] ?? "/"), headers, httpVersion: "2.0", remoteAddress: stream.session?.socket.remoteAddress });
  };

  /** Gives a connected ws socket to the handler, which owns it until its promise settles. */
  const adopt = (ws: WebSocket, request: EndpointRequest) => {
    const socket = new Socket(ws, request, options.fragments ?? "whole");
    open.add(socket);
    void socket.closed.then(() => open.delete(socket));
    Promise.resolve()
      .then(() => handler(socket))
      .then(
        () => socket.close(1000, ""),
        () => socket.close(1011, "The handler failed."),
      );
  };
  const timer = setInterval(() => {
    const now = monotonicNow();
    for (const socket of open) {
      if (now - socket.lastHeardAt >= clientTimeoutMs) socket.close(1001, "The client sent nothing within the keep-alive timeout.", "timeout");
      else socket.ping();
    }
  }, keepAliveIntervalMs).unref();

  return {
    handleRequest(_request, response) {
      response.writeHead(400, { "Content-Type": "text/plain; charset=utf-8" }).end("This endpoint accepts WebSocket requests only.");
      return true;
    },
    handleUpgrade(request, duplex, head) {
      duplex.on("error", () => undefined);
      if (!originAllowed(request.headers.origin)) return rejectUpgrade(duplex, 403, "This origin may not open a WebSocket here.");
      void acceptor.accept(request, duplex, head).then((ws) => {
        if (ws !== undefined)
          adopt(ws, { url: request.url ?? "/", headers: request.headers, httpVersion: request.httpVersion, remoteAddress: request.socket.remoteAddress });
      });
    },
    handleHttp2Stream(stream, headers) {
      if (headers[":method"] !== "CONNECT" || headers[":protocol"] !== "websocket") return false;
      openStream(stream, headers);
      return true;
    },
    handleConnect(request, response) {
      if (request.headers[":protocol"] !== "websocket") return false;
      openStream(response.stream, request.headers);
      return true;
    },
    attachHttp2(http2Server, path) {
      const forPath = (target: unknown) => String(target ?? "").split("?")[0] === path;
      http2Server.updateSettings({ enableConnectProtocol: true });
      // Without a 'request' listener Node hands every stream to 'stream' listeners only; with one,
      // its compatibility layer also answers each stream, and CONNECT streams go to 'connect'.
      http2Server.on("stream", (stream, headers) => {
        if (http2Server.listenerCount("request") === 0 && forPath(headers[":path"])) this.handleHttp2Stream(stream, headers);
      });
      listenAsHubwire(http2Server, "connect", (request: Http2ServerRequest, response: Http2ServerResponse) => {
        if (forPath(request.url) && this.handleConnect(request, response)) return;
        if (passOver(http2Server, "connect", response.stream)) response.writeHead(404).end("No WebSocket endpoint at this path.");
      });
      // With allowHTTP1, HTTP/1.1 clients upgrade as usual.
      listenAsHubwire(http2Server, "upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (forPath(request.url)) this.handleUpgrade(request, socket, head);
        else if (passOver(http2Server, "upgrade", socket)) rejectUpgrade(socket, 400, "No WebSocket endpoint at this path.");
      });
    },
    get openCount() {
      return open.size;
    },
    close() {
      clearInterval(timer);
      for (const socket of open) socket.close(1001, "The server is shutting down.");
    },
  };
}
