/**
 * Completes WebSocket handshakes on upgrade requests that the caller has already routed and
 * checked, on top of `ws` (the one place besides the transport that imports it).
 *
 * @module
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";

/** Options of {@link WebSocketAcceptor}. */
export interface WebSocketAcceptorOptions {
  /** The largest frame or message accepted; a larger one closes the socket with 1009. */
  readonly maxPayloadBytes: number;
}

/**
 * Turns an upgrade request into a `ws` WebSocket, or answers 400 when the WebSocket handshake
 * headers are invalid (ws does this itself).
 *
 * @example
 * ```ts
 * const acceptor = new WebSocketAcceptor({ maxPayloadBytes: 1 << 20 });
 * const socket = await acceptor.accept(request, duplex, head);
 * ```
 */
export class WebSocketAcceptor {
  readonly #server: WebSocketServer;

  constructor(options: WebSocketAcceptorOptions) {
    this.#server = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayloadBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
  }

  /** Completes the handshake; resolves with the socket, or undefined when ws refused the request. */
  accept(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<WebSocket | undefined> {
    return new Promise((resolve) => {
      // ws answers bad handshakes (missing key, wrong version) itself with 400 and never calls back.
      socket.once("close", () => resolve(undefined));
      this.#server.handleUpgrade(request, socket, head, (webSocket) => resolve(webSocket));
    });
  }
}
