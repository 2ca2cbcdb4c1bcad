/**
 * The Server-Sent Events transport, read with `fetch` so that it works the same in browsers and
 * Node and can send the access token as a header. Text only (JSON): the connection never picks it
 * for MessagePack, since negotiate lists it for the text transfer format only. Sends go by POST.
 * Connected again after a drop (stateful reconnect), a new event stream re-attaches the same
 * connection.
 *
 * @module
 */
import { TransportError } from "../errors.js";
import { type HttpOptions, post, request } from "../http.js";
import { sendQueue } from "./send-queue.js";
import type { Transport } from "./transport.js";

export class ServerSentEventsTransport implements Transport {
  readonly name = "ServerSentEvents";
  onreceive: Transport["onreceive"];
  onclose: Transport["onclose"];
  readonly #http: HttpOptions;
  #url = "";
  #abort = new AbortController();
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #stopped = false;
  #closed = false;

  constructor(http: HttpOptions) {
    this.#http = http;
  }

  async connect(url: string): Promise<void> {
    this.#url = url;
    this.#abort = new AbortController();
    this.#stopped = false;
    const response = await request(this.#http, this.name, url, {
      headers: { Accept: "text/event-stream" },
      signal: this.#abort.signal,
      timeoutMs: null,
    });
    if (response.body === null) throw new TransportError(this.name, "The response has no body.");
    this.#reader = response.body.getReader();
    this.#closed = false;
    void this.#read(this.#reader);
  }

  /** One POST at a time, in order (send-queue.ts). */
  readonly send = sendQueue((body) => post(this.#http, this.name, this.#url, body));

  async stop(): Promise<void> {
    this.abandon();
  }

  /** Ends the stream here, without telling the server; `error` is what `onclose` reports (none: a stop). */
  abandon(error?: Error): void {
    this.#stopped = true;
    // A read pending when the fetch is aborted may never settle (undici): cancel it and report the end here.
    void this.#reader?.cancel().catch(() => undefined);
    this.#abort.abort();
    this.#close(this.#reader, error);
  }

  /** Reports the end of the stream `reader` reads, once; a stream replaced by a re-attach ends silently. */
  #close(reader: ReadableStreamDefaultReader<Uint8Array> | undefined, error: Error | undefined): void {
    if (this.#closed || reader !== this.#reader) return;
    this.#closed = true;
    this.onclose?.(error);
  }

  async #read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    let error: Error | undefined;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += decoder.decode(value, { stream: true });
        // Events end with a blank line; each `data:` line of one is a line of its payload.
        let end: RegExpExecArray | null;
        while ((end = /\r?\n\r?\n/.exec(buffered)) !== null) {
          const event = buffered.slice(0, end.index);
          buffered = buffered.slice(end.index + end[0].length);
          const data = event
            .split(/\r?\n/)
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
            .join("\n");
          if (data) this.onreceive?.(data);
        }
      }
    } catch (caught) {
      if (!this.#stopped) error = new TransportError(this.name, (caught as Error).message);
    }
    this.#close(reader, this.#stopped ? undefined : (error ?? new TransportError(this.name, "The server ended the event stream.")));
  }
}
