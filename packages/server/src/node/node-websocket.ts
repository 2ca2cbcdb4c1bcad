/**
 * Node's side of the WebSocket seam: a `ws` socket as a {@link RuntimeWebSocket}, sending through
 * the single-buffer frame writer (`websockets/frame-writer.ts`), which frames a broadcast once.
 *
 * @module
 */
import { type RawData, WebSocket } from "ws";
import type { RuntimeWebSocket, WebSocketListener } from "../runtime/runtime-websocket.js";
import { writeFrame } from "../websockets/frame-writer.js";

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

const ownerOf = Symbol("hubwire.socket");
type OwnedSocket = WebSocket & { [ownerOf]?: NodeWebSocket };

// Listeners shared by every socket find their owner on the socket: closures per socket would cost
// every idle connection a few hundred bytes.
function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  (this as OwnedSocket)[ownerOf]!.listener?.message(toBytes(data), isBinary);
}

function onClose(this: WebSocket, code: number, reason: Buffer): void {
  (this as OwnedSocket)[ownerOf]!.listener?.closed(code, reason.toString());
}

function ignoreError(): void {}

/** A peer that never answers a close frame is cut off after this long. */
const CLOSE_TIMEOUT_MS = 5_000;

/**
 * A `ws` socket behind the seam.
 *
 * @example
 * ```ts
 * const socket = new NodeWebSocket(await acceptor.accept(request, duplex, head));
 * socket.listen({ message: (data) => console.log(data.byteLength), closed: (code) => console.log(code) });
 * ```
 */
export class NodeWebSocket implements RuntimeWebSocket {
  readonly #socket: WebSocket;
  /** @internal Read by the shared listeners. */
  listener: WebSocketListener | undefined = undefined;

  constructor(socket: WebSocket) {
    this.#socket = socket;
    (socket as OwnedSocket)[ownerOf] = this;
    socket.on("message", onMessage);
    socket.on("close", onClose);
    // ws closes the socket after an error and then emits "close"; handling "error" keeps it from throwing.
    socket.on("error", ignoreError);
  }

  get isOpen(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  get bufferedBytes(): number {
    return this.#socket.bufferedAmount;
  }

  listen(listener: WebSocketListener): void {
    this.listener = listener;
  }

  send(data: Uint8Array, isBinary: boolean): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    writeFrame(this.#socket, data, isBinary);
  }

  close(code: number, reason?: string): void {
    const socket = this.#socket;
    if (socket.readyState === WebSocket.CLOSED || socket.readyState === WebSocket.CLOSING) return;
    socket.close(code, reason);
    setTimeout(() => socket.terminate(), CLOSE_TIMEOUT_MS).unref();
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }
}
