/**
 * The WebSockets transport: one `ws` socket per connection. JSON travels in text frames and
 * MessagePack in binary frames; a frame may hold several records, and a record may span frames.
 *
 * @module
 */
import { TransportName } from "@hubwire/protocol";
import { WebSocket, type RawData } from "ws";
import { respondText, type HubRequest, type HubResponse } from "../http-request.js";
import { writeFrame } from "../websockets/frame-writer.js";
import type { Transport, TransportListener, TransportRequest } from "./transport.js";

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

const transportOf = Symbol("hubwire.transport");
type OwnedSocket = WebSocket & { [transportOf]?: WebSocketTransport };

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  WebSocketTransport.received(this, data, isBinary);
}

function onClose(this: WebSocket, code: number, reason: Buffer): void {
  WebSocketTransport.closed(this, code, reason);
}

function ignoreError(): void {}

/** Close codes a client uses for a normal end. */
const normalCloseCodes = new Set([1000, 1001, 1005]);

/**
 * Binds a `ws` socket to a connection.
 *
 * @example
 * ```ts
 * const transport = new WebSocketTransport(socket, connection);
 * connection.attach(transport, request, principal);
 * ```
 */
export class WebSocketTransport implements Transport {
  readonly #socket: WebSocket;
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

  get canResume(): boolean {
    return true;
  }

  get isDraining(): boolean {
    return false;
  }

  /** Plain HTTP requests for a WebSocket connection: refused, as .NET refuses them. */
  handleRequest(kind: TransportRequest, request: HubRequest, response: HubResponse): void {
    request.resume();
    if (kind === "send") return respondText(response, 405, "POST requests are not allowed for WebSocket connections.");
    if (kind === "delete") return respondText(response, 400, "Cannot terminate this connection using the DELETE endpoint.");
    respondText(response, 400, "Cannot change transports mid-connection");
  }

  constructor(socket: WebSocket, listener: TransportListener) {
    this.#socket = socket;
    this.#listener = listener;
    // Listeners shared by every socket find their transport on the socket: closures per socket
    // would cost every idle connection a few hundred bytes.
    (socket as OwnedSocket)[transportOf] = this;
    socket.on("message", onMessage);
    socket.on("close", onClose);
    // ws closes the socket after an error and then emits "close"; handling "error" keeps it from throwing.
    socket.on("error", ignoreError);
  }

  /** @internal */
  static received(socket: WebSocket, data: RawData, isBinary: boolean): void {
    const transport = (socket as OwnedSocket)[transportOf]!;
    transport.#listener.receive(transport, toBytes(data), isBinary);
  }

  /** @internal */
  static closed(socket: WebSocket, code: number, reason: Buffer): void {
    const transport = (socket as OwnedSocket)[transportOf]!;
    transport.#listener.transportClosed(
      transport,
      normalCloseCodes.has(code) ? undefined : new Error(`WebSocket closed with status code: ${code} (${reason.toString() || "no reason given"}).`),
    );
  }

  get bufferedBytes(): number {
    return this.#socket.bufferedAmount;
  }

  send(data: Uint8Array, isBinary: boolean): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    writeFrame(this.#socket, data, isBinary);
  }

  close(code = 1000, reason?: string): void {
    if (this.#socket.readyState === WebSocket.CLOSED || this.#socket.readyState === WebSocket.CLOSING) return;
    this.#socket.close(code, reason);
    // A peer that never answers the close frame must not hold the socket.
    setTimeout(() => this.#socket.terminate(), 5_000).unref();
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }
}
