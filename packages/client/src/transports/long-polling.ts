/**
 * The long-polling transport: a loop of GETs that each return what the server queued (or nothing
 * after its poll timeout), and POSTs for sends. A 204 means the server ended the connection.
 *
 * @module
 */
import { post, request, type HttpOptions } from "../http.js";
import type { Transport } from "./transport.js";

export class LongPollingTransport implements Transport {
  readonly name = "LongPolling";
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
    // The server answers the first poll at once: it only confirms the connection.
    await request(this.#http, this.name, this.#pollUrl());
    this.#running = true;
    this.#loop = this.#poll();
  }

  send(data: string | Uint8Array): Promise<void> {
    return post(this.#http, this.name, this.#url, data);
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#abort.abort();
    await request(this.#http, this.name, this.#url, { method: "DELETE" }).catch(() => undefined);
    await this.#loop;
  }

  #pollUrl(): string {
    return `${this.#url}&_=${Date.now()}`;
  }

  async #poll(): Promise<void> {
    let error: Error | undefined;
    while (this.#running) {
      try {
        // No client timeout: the server answers within its poll timeout (90 s by default).
        const response = await request(this.#http, this.name, this.#pollUrl(), { signal: this.#abort.signal, timeoutMs: null });
        if (response.status === 204) break;
        const body = this.#binary ? new Uint8Array(await response.arrayBuffer()) : await response.text();
        if (body.length > 0) this.onreceive?.(body);
      } catch (caught) {
        if (this.#running) error = caught as Error;
        break;
      }
    }
    this.#running = false;
    this.onclose?.(error);
  }
}
