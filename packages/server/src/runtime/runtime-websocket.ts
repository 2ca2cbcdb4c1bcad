/**
 * The runtime seam for WebSockets: an open socket, and the handshake that opens one, as the hub
 * core sees them. Node's adapter fills it with `ws` (over HTTP/1.1 upgrades and HTTP/2 extended
 * CONNECT), Bun's with `Bun.serve`'s own WebSockets.
 *
 * @module
 */

/** What an open socket reports; one listener per socket. */
export interface WebSocketListener {
  /** A whole message: text (`isBinary` false, UTF-8 bytes) or binary. */
  message(data: Uint8Array, isBinary: boolean): void;
  /** The socket closed: the close frame's code (1005 when it had none, 1006 when there was no close frame). */
  closed(code: number, reason: string): void;
}

/**
 * An open WebSocket.
 *
 * @example
 * ```ts
 * socket.listen({ message: (data, isBinary) => receive(data, isBinary), closed: (code) => end(code) });
 * socket.send(new TextEncoder().encode("{}\u001e"), false);
 * ```
 */
export interface RuntimeWebSocket {
  /** Until it starts closing. */
  readonly isOpen: boolean;
  /** Bytes queued and not yet sent. */
  readonly bufferedBytes: number;
  send(data: Uint8Array, isBinary: boolean): void;
  /** Sends a close frame; a peer that never answers it is cut off after a while. */
  close(code: number, reason?: string): void;
  /** Stops and restarts reading: back-pressure. */
  pause(): void;
  resume(): void;
  listen(listener: WebSocketListener): void;
}

/**
 * The two ends of a WebSocket handshake, however it travels (an HTTP/1.1 upgrade, an HTTP/2
 * stream, Bun's `server.upgrade`): the core decides, the runtime carries it out.
 *
 * @example
 * ```ts
 * const handshake: WebSocketHandshake = {
 *   refuse: (status, message) => rejectUpgrade(socket, status, message),
 *   accept: (limits) => acceptor(limits).accept(request, socket, head),
 * };
 * ```
 */
export interface WebSocketHandshake {
  /** Answers with an HTTP status and a message; no WebSocket opens. */
  refuse(status: number, message: string): void;
  /**
   * Completes the handshake: the socket, or undefined when it failed (and was answered, or the
   * client left). `maxMessageBytes`: a larger message closes the socket with 1009.
   */
  accept(limits: { readonly maxMessageBytes: number }): Promise<RuntimeWebSocket | undefined> | RuntimeWebSocket | undefined;
}
