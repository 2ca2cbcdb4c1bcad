/**
 * Bun's side of the HTTP seam: a `Request` as an {@link HttpExchange}, answered with a `Response`
 * (whole, or with a stream for Server-Sent Events) that {@link BunHttpExchange.response} gives to
 * `Bun.serve`'s `fetch`. A client that goes away aborts the request's signal, or cancels the
 * stream.
 *
 * @module
 */
import type { BodyReader, HttpExchange, HttpHeaders } from "../runtime/http-exchange.js";
import type { BunServerLike } from "./bun-types.js";

const encoder = new TextEncoder();

/** Header names lower case, as Node gives them; repeated ones joined as the Fetch API joins them. */
function headersOf(request: Request): Record<string, string> {
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return headers;
}

/**
 * One request to a hub on Bun, with its answer.
 *
 * @example
 * ```ts
 * const exchange = new BunHttpExchange(request, server);
 * if (hubs.handle(exchange)) return exchange.response;
 * ```
 */
export class BunHttpExchange implements HttpExchange {
  readonly native: Request;
  readonly #server: BunServerLike;
  readonly #url: string;
  #headers: HttpHeaders | undefined;
  #extraHeaders: Record<string, string> | undefined;
  readonly #answer: Promise<Response>;
  #resolve!: (response: Response) => void;
  #answered = false;
  #stream: ReadableStreamDefaultController<Uint8Array> | undefined;
  #streamEnded = false;
  #closeListeners: Array<() => void> | undefined;
  #closed = false;
  #paused = false;
  #resumed: (() => void) | undefined;

  constructor(request: Request, server: BunServerLike) {
    this.native = request;
    this.#server = server;
    const url = new URL(request.url);
    this.#url = url.pathname + url.search;
    this.#answer = new Promise((resolve) => (this.#resolve = resolve));
    request.signal.addEventListener("abort", () => this.#close(), { once: true });
  }

  /** The answer, once given: what `fetch` returns. */
  get response(): Promise<Response> {
    return this.#answer;
  }

  get method(): string {
    return this.native.method;
  }

  get url(): string {
    return this.#url;
  }

  get headers(): HttpHeaders {
    return (this.#headers ??= headersOf(this.native));
  }

  get httpVersion(): string {
    return "1.1";
  }

  get remoteAddress(): string | undefined {
    return this.#server.requestIP(this.native)?.address;
  }

  readBody(reader: BodyReader): void {
    const body = this.native.body;
    if (body === null) {
      queueMicrotask(() => reader.end());
      return;
    }
    const source = body.getReader();
    const pump = async () => {
      try {
        for (;;) {
          while (this.#paused) await new Promise<void>((resolve) => (this.#resumed = resolve));
          const { done, value } = await source.read();
          if (done) return reader.end();
          reader.data(value);
        }
      } catch {
        reader.error("The request was aborted.");
      }
    };
    void pump();
  }

  pauseBody(): void {
    this.#paused = true;
  }

  resumeBody(): void {
    this.#paused = false;
    this.#resumed?.();
    this.#resumed = undefined;
  }

  discardBody(): void {
    // Bun drops an unread body when the answer has gone.
  }

  closeAfterAnswer(): void {
    this.setHeader("Connection", "close");
  }

  setHeader(name: string, value: string): void {
    (this.#extraHeaders ??= {})[name] = value;
  }

  get answered(): boolean {
    return this.#answered;
  }

  respond(status: number, headers: Readonly<Record<string, string>>, body?: string | Uint8Array): void {
    if (this.#answered) {
      if (this.#stream !== undefined) this.end();
      return;
    }
    this.#answered = true;
    // 204 and 304 carry no body, not even an empty one.
    const content = status === 204 || status === 304 ? null : (body ?? null);
    this.#resolve(new Response(content, { status, headers: this.#withExtra(headers) }));
    // Bun sends it once fetch returns it; nothing later needs the exchange.
    queueMicrotask(() => this.#close());
  }

  beginStream(status: number, headers: Readonly<Record<string, string>>): void {
    if (this.#answered) return;
    this.#answered = true;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#stream = controller;
        },
        cancel: () => this.#close(),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 0 }),
    );
    this.#resolve(new Response(stream, { status, headers: this.#withExtra(headers) }));
  }

  write(chunk: string | Uint8Array): void {
    if (this.#stream === undefined || this.#streamEnded) return;
    this.#stream.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
  }

  end(): void {
    if (this.#stream === undefined || this.#streamEnded) return;
    this.#streamEnded = true;
    this.#stream.close();
    this.#close();
  }

  get bufferedBytes(): number {
    return this.#stream === undefined ? 0 : Math.max(0, -(this.#stream.desiredSize ?? 0));
  }

  onClose(listener: () => void): void {
    if (this.#closed) return;
    (this.#closeListeners ??= []).push(listener);
  }

  #withExtra(headers: Readonly<Record<string, string>>): Record<string, string> {
    return this.#extraHeaders === undefined ? { ...headers } : { ...this.#extraHeaders, ...headers };
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const listeners = this.#closeListeners;
    this.#closeListeners = undefined;
    for (const listener of listeners ?? []) listener();
  }
}
