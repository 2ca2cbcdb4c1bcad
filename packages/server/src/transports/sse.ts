/**
 * The Server-Sent Events transport: the server writes to a `text/event-stream` response that
 * stays open, the client sends with POST. Text only, so MessagePack is refused at the handshake.
 *
 * @module
 */
import { TransportName } from "@hubwire/protocol";
import { refuse } from "../http-request.js";
import type { HttpExchange } from "../runtime/http-exchange.js";
import { type PostLimits, PostReceiver } from "./http-post.js";
import type { Transport, TransportListener, TransportRequest } from "./transport.js";

export class ServerSentEventsTransport implements Transport {
  readonly #stream: HttpExchange;
  readonly #posts: PostReceiver;
  #closed = false;

  // Constants as getters on the prototype: fields would be stored in every connection's transport.
  get name(): typeof TransportName.ServerSentEvents {
    return TransportName.ServerSentEvents;
  }

  get hasInherentKeepAlive(): boolean {
    return false;
  }

  get supportsBinary(): boolean {
    return false;
  }

  get isDraining(): boolean {
    return false;
  }

  /** Checks the POST in flight against its idle limit. */
  tick(): void {
    this.#posts.tick();
  }

  /** `stream` is the GET that started the transport: its answer is the event stream. */
  constructor(stream: HttpExchange, listener: TransportListener, limits: PostLimits, fail: (reason: string) => void) {
    this.#stream = stream;
    this.#posts = new PostReceiver((chunk, isBinary) => listener.receive(this, chunk, isBinary), limits, fail);
    stream.discardBody();
    stream.beginStream(200, {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache,no-store",
      Pragma: "no-cache",
      "Content-Encoding": "identity",
      // Proxies such as nginx must not buffer the stream.
      "X-Accel-Buffering": "no",
    });
    // A comment first: some browsers fire `open` only once data arrives.
    stream.write(":\r\n");
    stream.onClose(() => {
      this.#closed = true;
      this.#posts.close();
      listener.transportClosed(this);
    });
  }

  get bufferedBytes(): number {
    return this.#stream.bufferedBytes;
  }

  handleRequest(kind: TransportRequest, exchange: HttpExchange): void {
    if (kind === "send") return this.#posts.receive(exchange);
    if (kind === "events") return refuse(exchange, 409, "Another transport request is already active for this connection.");
    if (kind === "delete") return refuse(exchange, 400, "Cannot terminate this connection using the DELETE endpoint.");
    refuse(exchange, 400, "Cannot change transports mid-connection");
  }

  send(data: Uint8Array): void {
    if (this.#closed) return;
    // One event per frame; every line of it a `data:` line.
    const lines = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8").split("\n");
    this.#stream.write(`${lines.map((line) => `data: ${line}\r\n`).join("")}\r\n`);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#posts.close();
    this.#stream.end();
  }

  pause(): void {
    this.#posts.pause();
  }

  resume(): void {
    this.#posts.resume();
  }
}
