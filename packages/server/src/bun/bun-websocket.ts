/**
 * Bun's side of the WebSocket seam: a `ServerWebSocket` from `Bun.serve` as a
 * {@link RuntimeWebSocket}. Bun reads a socket whatever the application does, so pausing holds
 * what arrives (bounded) and hands it over on resume; a message over the endpoint's limit closes
 * the socket with 1009, as `ws` does on Node.
 *
 * @module
 */
import type { RuntimeWebSocket, WebSocketListener } from "../runtime/runtime-websocket.js";
import type { BunServerWebSocket } from "./bun-types.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** WebSocket readyState OPEN. */
const OPEN = 1;

/** A peer that never answers a close frame is cut off after this long. */
const CLOSE_TIMEOUT_MS = 5_000;

/** While paused, at most this many messages' worth of the endpoint's limit are held; past it the socket closes (1008). */
const HELD_MESSAGES_LIMIT = 4;

/**
 * A Bun socket behind the seam.
 *
 * @example
 * ```ts
 * websocket: { open: (ws) => ws.data.opened(ws), message: (ws, data) => ws.data.owner?.message(data) }
 * ```
 */
export class BunWebSocket implements RuntimeWebSocket {
  readonly #socket: BunServerWebSocket;
  readonly #maxMessageBytes: number;
  #listener: WebSocketListener | undefined;
  /** Messages that came while paused, or before a listener: delivered in order on resume. */
  #held: Array<[Uint8Array, boolean]> | undefined;
  #heldBytes = 0;
  #paused = false;
  #closing = false;
  /** How it closed, if it did before a listener came. */
  #closedWith: [number, string] | undefined;

  constructor(socket: BunServerWebSocket) {
    this.#socket = socket;
    this.#maxMessageBytes = socket.data.maxMessageBytes;
    socket.data.owner = this;
  }

  get isOpen(): boolean {
    return !this.#closing && this.#socket.readyState === OPEN;
  }

  get bufferedBytes(): number {
    return this.#socket.getBufferedAmount();
  }

  listen(listener: WebSocketListener): void {
    this.#listener = listener;
    if (!this.#paused) this.#deliverHeld();
    if (this.#closedWith !== undefined) listener.closed(...this.#closedWith);
  }

  send(data: Uint8Array, isBinary: boolean): void {
    if (!this.isOpen) return;
    if (isBinary) this.#socket.sendBinary(data);
    else this.#socket.sendText(decoder.decode(data));
  }

  close(code: number, reason?: string): void {
    if (!this.isOpen) return;
    this.#closing = true;
    this.#socket.close(code, reason);
    setTimeout(() => this.#socket.terminate(), CLOSE_TIMEOUT_MS).unref?.();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#deliverHeld();
  }

  /** @internal From `Bun.serve`'s websocket handlers. */
  message(data: string | Uint8Array): void {
    const isBinary = typeof data !== "string";
    const bytes = isBinary ? data : encoder.encode(data);
    if (bytes.byteLength > this.#maxMessageBytes) {
      this.close(1009, "Message too big");
      return;
    }
    if (this.#paused || this.#listener === undefined || this.#held !== undefined) {
      (this.#held ??= []).push([bytes, isBinary]);
      this.#heldBytes += bytes.byteLength;
      if (this.#heldBytes > HELD_MESSAGES_LIMIT * this.#maxMessageBytes) this.close(1008, "Too much data sent while the server was busy.");
      return;
    }
    this.#listener.message(bytes, isBinary);
  }

  /** @internal From `Bun.serve`'s websocket handlers. */
  closed(code: number, reason: string): void {
    this.#closing = true;
    if (this.#listener === undefined) this.#closedWith = [code, reason];
    else this.#listener.closed(code, reason);
  }

  /** @internal From `Bun.serve`'s websocket handlers: what was queued has gone. */
  drained(): void {}

  #deliverHeld(): void {
    const listener = this.#listener;
    while (listener !== undefined && !this.#paused && this.#held !== undefined) {
      const next = this.#held.shift();
      if (next === undefined) {
        this.#held = undefined;
        this.#heldBytes = 0;
        break;
      }
      this.#heldBytes -= next[0].byteLength;
      listener.message(next[0], next[1]);
    }
  }
}
