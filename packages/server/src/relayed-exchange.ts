/**
 * An event stream relayed from another node (a stateful re-attach that reached it), run on the
 * node that holds its connection as an HTTP exchange like any other: `beginStream` begins the
 * relay (the other node begins its client's stream with the same status and headers), each
 * `write` is a frame to it, `end` closes the relay; an answer given whole (a refusal) goes back as
 * the relay's refusal. The client going away on the other node closes the relay, and this
 * exchange with it.
 *
 * @module
 */
import type { RelayedRequest, RelayedStream, RelaySocket } from "./connection-routing.js";
import type { BodyReader, HttpExchange, HttpHeaders } from "./runtime/http-exchange.js";

/**
 * @example
 * ```ts
 * const exchange = new RelayedExchange(request, stream);
 * endpoint.handleHttp(exchange, search); // the SSE transport begins the stream and writes to it
 * ```
 */
export class RelayedExchange implements HttpExchange {
  readonly method: string;
  readonly url: string;
  readonly headers: HttpHeaders;
  readonly httpVersion = "1.1";
  readonly remoteAddress: string | undefined;
  readonly native = undefined;
  readonly #stream: RelayedStream;
  readonly #headers: Record<string, string> = {};
  readonly #closeListeners: Array<() => void> = [];
  #relay: RelaySocket | undefined;
  #answered = false;
  #closed = false;

  constructor(request: RelayedRequest, stream: RelayedStream) {
    this.method = request.method;
    this.url = request.url;
    this.headers = request.headers;
    this.remoteAddress = request.remoteAddress;
    this.#stream = stream;
  }

  get answered(): boolean {
    return this.#answered;
  }

  /** What the relay has not taken yet is the backplane's; nothing waits here. */
  get bufferedBytes(): number {
    return 0;
  }

  /** A relayed request is a GET: it has no body. */
  readBody(reader: BodyReader): void {
    queueMicrotask(() => reader.end());
  }

  pauseBody(): void {}

  resumeBody(): void {}

  discardBody(): void {}

  closeAfterAnswer(): void {
    // The client's connection is the other node's; it closes nothing here.
  }

  setHeader(name: string, value: string): void {
    this.#headers[name] = value;
  }

  respond(status: number, headers: Readonly<Record<string, string>>, body?: string | Uint8Array): void {
    if (this.#answered) return this.end();
    this.#answered = true;
    const text = body === undefined ? "" : typeof body === "string" ? body : Buffer.from(body).toString("utf8");
    this.#stream.answer(status, { ...this.#headers, ...headers }, text);
    this.#close();
  }

  beginStream(status: number, headers: Readonly<Record<string, string>>): void {
    if (this.#answered) return;
    this.#answered = true;
    const relay = this.#stream.begin(status, { ...this.#headers, ...headers });
    this.#relay = relay;
    relay.listen({ message: () => undefined, closed: () => this.#close() });
  }

  write(chunk: string | Uint8Array): void {
    this.#relay?.send(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk, false);
  }

  end(): void {
    this.#relay?.close(1000);
    this.#close();
  }

  onClose(listener: () => void): void {
    if (this.#closed) queueMicrotask(listener);
    else this.#closeListeners.push(listener);
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const listener of this.#closeListeners.splice(0)) listener();
  }
}
