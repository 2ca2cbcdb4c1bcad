/**
 * Completes WebSocket handshakes for requests the caller has already routed and checked, on top
 * of `ws`: HTTP/1.1 upgrades, and HTTP/2 extended CONNECT streams (RFC 8441). Both the hub's
 * WebSocket transport and the raw WebSocket endpoint accept their sockets here.
 *
 * @module
 */
import type { IncomingMessage } from "node:http";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { Duplex } from "node:stream";
import { type PerMessageDeflateOptions, WebSocket, WebSocketServer } from "ws";

/** Options of {@link WebSocketAcceptor}. */
export interface WebSocketAcceptorOptions {
  /** The largest frame or message accepted (after inflating); larger closes the socket with 1009. */
  readonly maxPayloadBytes: number;
  /** permessage-deflate for HTTP/1.1 upgrades; off by default. */
  readonly perMessageDeflate?: PerMessageDeflateOptions | false;
}

/**
 * Turns upgrade requests (or CONNECT streams) into `ws` WebSockets. A bad HTTP/1.1 handshake
 * (missing key, wrong version) is answered 400 by ws itself.
 *
 * @example
 * ```ts
 * const acceptor = new WebSocketAcceptor({ maxPayloadBytes: 1 << 20 });
 * const socket = await acceptor.accept(request, duplex, head);
 * ```
 */
export class WebSocketAcceptor {
  readonly #server: WebSocketServer;
  readonly #maxPayloadBytes: number;

  constructor(options: WebSocketAcceptorOptions) {
    this.#maxPayloadBytes = options.maxPayloadBytes;
    this.#server = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayloadBytes,
      perMessageDeflate: options.perMessageDeflate ?? false,
      clientTracking: false,
    });
  }

  /** Completes the handshake; resolves with the socket, or undefined when ws refused the request. */
  accept(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<WebSocket | undefined> {
    return new Promise((resolve) => {
      // ws answers bad handshakes (missing key, wrong version) itself with 400 and never calls back.
      const refused = () => resolve(undefined);
      socket.once("close", refused);
      this.#server.handleUpgrade(request, socket, head, (webSocket) => {
        // The listener's scope holds the request: left on the socket, it would keep the whole
        // IncomingMessage alive as long as the connection.
        socket.off("close", refused);
        resolve(answerCloseLikeKestrel(webSocket));
      });
    });
  }

  /**
   * Refuses an HTTP/2 extended CONNECT that asks for a WebSocket version other than 13 (RFC 6455
   * 4.4: 400 with the version supported); true when it did. Check it before anything costly.
   */
  static refusedHttp2Version(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): boolean {
    const version = headers["sec-websocket-version"];
    if (version === undefined || version === "13") return false;
    stream.respond({ ":status": 400, "sec-websocket-version": "13", "content-type": "text/plain; charset=utf-8" });
    stream.end("Only WebSocket version 13 is supported.");
    return true;
  }

  /**
   * Opens an HTTP/2 extended CONNECT stream (already checked: `:protocol` websocket) as a socket:
   * answers 200 and uses the stream as the WebSocket's byte stream (no key, no accept). No
   * compression is offered over HTTP/2.
   */
  acceptHttp2Stream(stream: ServerHttp2Stream): WebSocket {
    stream.respond({ ":status": 200 });
    // ws builds its server-side sockets this way (address null) and accepts any Duplex as their transport.
    const ws = new (WebSocket as unknown as new (address: null, protocols: undefined, options: object) => WebSocket)(null, undefined, { autoPong: true });
    (ws as unknown as { setSocket(socket: Duplex, head: Buffer, options: object): void }).setSocket(stream, Buffer.alloc(0), {
      maxPayload: this.#maxPayloadBytes,
      allowSynchronousEvents: true,
    });
    return answerCloseLikeKestrel(ws);
  }
}

/** The part of ws 8's WebSocket that carries a received close frame to it. */
interface ReceiverInternals {
  prependListener(event: "conclude", listener: (code: number) => void): void;
}

/**
 * Answers a client's close frame without a status code with 1000, as Kestrel does (.NET reads an
 * empty close as NormalClosure and replies with it); ws would echo an empty frame, which clients
 * report as 1005. Runs before ws's own handler, which then finds the close already under way.
 */
function answerCloseLikeKestrel(ws: WebSocket): WebSocket {
  const receiver = (ws as unknown as { _receiver?: ReceiverInternals })._receiver;
  receiver?.prependListener("conclude", (code) => {
    if (code === 1005) ws.close(1000);
  });
  return ws;
}
