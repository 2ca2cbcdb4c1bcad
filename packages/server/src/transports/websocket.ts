/**
 * The WebSockets transport: one socket per connection, whatever runtime carries it. JSON travels
 * in text frames and MessagePack in binary frames; a frame may hold several records, and a record
 * may span frames.
 *
 * @module
 */
import { TransportName } from "@hubwire/protocol";
import { refuse } from "../http-request.js";
import type { HttpExchange } from "../runtime/http-exchange.js";
import type { RuntimeWebSocket, WebSocketListener } from "../runtime/runtime-websocket.js";
import type { Transport, TransportListener, TransportRequest } from "./transport.js";

/** Close codes a client uses for a normal end. */
const normalCloseCodes = new Set([1000, 1001, 1005]);

/**
 * Binds an open socket to a connection.
 *
 * @example
 * ```ts
 * const transport = new WebSocketTransport(socket, connection);
 * connection.attach(transport, request, principal);
 * ```
 */
export class WebSocketTransport implements Transport, WebSocketListener {
  readonly #socket: RuntimeWebSocket;
  readonly #listener: TransportListener;

  // Constants as getters on the prototype: fields would be stored in every connection's transport.
  get name(): typeof TransportName.WebSockets {
    return TransportName.WebSockets;
  }

  get hasInherentKeepAlive(): boolean {
    return false;
  }

  get supportsBinary(): boolean {
    return true;
  }

  get isDraining(): boolean {
    return false;
  }

  constructor(socket: RuntimeWebSocket, listener: TransportListener) {
    this.#socket = socket;
    this.#listener = listener;
    socket.listen(this);
  }

  /** Plain HTTP requests for a WebSocket connection: refused, as .NET refuses them. */
  handleRequest(kind: TransportRequest, exchange: HttpExchange): void {
    if (kind === "send") return refuse(exchange, 405, "POST requests are not allowed for WebSocket connections.");
    if (kind === "delete") return refuse(exchange, 400, "Cannot terminate this connection using the DELETE endpoint.");
    refuse(exchange, 400, "Cannot change transports mid-connection");
  }

  /** @internal From the socket. */
  message(data: Uint8Array, isBinary: boolean): void {
    this.#listener.receive(this, data, isBinary);
  }

  /** @internal From the socket. */
  closed(code: number, reason: string): void {
    this.#listener.transportClosed(
      this,
      normalCloseCodes.has(code) ? undefined : new Error(`WebSocket closed with status code: ${code} (${reason || "no reason given"}).`),
    );
  }

  get bufferedBytes(): number {
    return this.#socket.bufferedBytes;
  }

  send(data: Uint8Array, isBinary: boolean): void {
    this.#socket.send(data, isBinary);
  }

  close(code = 1000, reason?: string): void {
    this.#socket.close(code, reason);
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }
}
