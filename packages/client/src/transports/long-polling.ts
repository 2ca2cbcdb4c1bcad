/**
 * The long-polling transport: a loop of GETs that each return what the server queued (or nothing
 * after its poll timeout), and POSTs for sends. A 204 means the server ended the connection.
 * Connected again after a drop (stateful reconnect), it is given the URL of a new link
 * (`link=N`): its first poll re-attaches, and the server replays what the lost answers carried.
 *
 * @module
 */
import { finish, type HttpOptions, post, request } from "../http.js";
import { sendQueue } from "./send-queue.js";
import type { Transport } from "./transport.js";

/** How long `stop` waits for the server to end the poll in flight after its DELETE. */
const STOP_WAIT_MS = 2_000;

export class LongPollingTransport implements Transport {
  readonly name = "LongPolling";
  readonly hasInherentKeepAlive = true;
  onreceive: Transport["onreceive"];
  onclose: Transport["onclose"];
  readonly #http: HttpOptions;
  #url = "";
  #binary = false;
  #running = false;
  #abort = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(http: HttpOptions) {
    this.#http = http;
  }

  async connect(url: string, binary: boolean): Promise<void> {
    this.#url = url;
    this.#binary = binary;
    // The server answers the first poll at once: it only confirms the connection (or the re-attach).
    await finish(await request(this.#http, this.name, this.#pollUrl()));
    this.#running = true;
    this.#loop = this.#poll(this.#abort);
  }

  /** One POST at a time, in order (send-queue.ts). */
  readonly send = sendQueue((body) => post(this.#http, this.name, this.#url, body));

  async stop(): Promise<void> {
    const loop = this.#loop;
    if (!this.#running || loop === undefined) return;
    this.#running = false;
    // DELETE first: the server then ends the poll in flight with 204, so it finishes rather than
    // being aborted. Aborted only when the server cannot be told, or does not end it soon.
    const told = await request(this.#http, this.name, this.#url, { method: "DELETE" }).then(finish, () => false);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ended = await Promise.race([
      loop.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(resolve, told === false ? 0 : STOP_WAIT_MS, false))),
    ]);
    clearTimeout(timer);
    if (!ended) this.#abort.abort();
    await loop;
  }

  abandon(error: Error): void {
    if (!this.#running) return;
    this.#running = false;
    this.#abort.abort();
    // A new controller for the next connect: the aborted loop then ends silently.
    this.#abort = new AbortController();
    this.onclose?.(error);
  }

  #pollUrl(): string {
    return `${this.#url}&_=${Date.now()}`;
  }

  /** Polls until the connection ends or `abort` aborts; a loop that a re-attach replaced ends silently. */
  async #poll(abort: AbortController): Promise<void> {
    let error: Error | undefined;
    while (this.#running) {
      try {
        // No client timeout: the server answers within its poll timeout (90 s by default).
        const response = await request(this.#http, this.name, this.#pollUrl(), { signal: abort.signal, timeoutMs: null });
        // Read even a 204's (empty) body: an answer left unread shows as cancelled in browsers.
        const body = this.#binary ? new Uint8Array(await response.arrayBuffer()) : await response.text();
        if (abort !== this.#abort) return;
        if (response.status === 204) break;
        if (body.length > 0) this.onreceive?.(body);
      } catch (caught) {
        if (this.#running) error = caught as Error;
        break;
      }
    }
    if (abort !== this.#abort) return;
    this.#running = false;
    this.onclose?.(error);
  }
}
