/**
 * Sends from the client for Server-Sent Events and long polling: `POST {hub}?id=<token>` with one
 * or more complete records. Bodies are fed to the connection as they arrive, never buffered whole;
 * one POST at a time per connection (a second waits its turn, as the .NET server serialises them),
 * and a body past the size cap or silent for too long is refused.
 *
 * @module
 */
import { respondText } from "../http-request.js";
import { monotonicNow } from "../monotonic-clock.js";
import type { HttpExchange } from "../runtime/http-exchange.js";

/** Limits on POST bodies. */
export interface PostLimits {
  /** The largest body; past it the answer is 413 and the connection ends. */
  readonly maxBodyBytes: number;
  /** A body that sends nothing for this long is refused with 408 and the connection ends. */
  readonly idleTimeoutMs: number;
}

/**
 * After the first idle timeout, a body must have come at this average rate or faster: a client
 * that trickles a byte now and then (slowloris) never trips the idle timer, but trips this.
 * Kestrel's `MinRequestBodyDataRate` default.
 */
const MIN_BODY_BYTES_PER_SECOND = 240;

/** Reads POST bodies into a connection, one request at a time. */
export class PostReceiver {
  readonly #deliver: (chunk: Uint8Array, isBinary: boolean) => void;
  readonly #limits: PostLimits;
  /** Ends a connection that broke the limits. */
  readonly #fail: (reason: string) => void;
  #queue: Promise<void> = Promise.resolve();
  #current: HttpExchange | undefined;
  #paused = false;
  #closed = false;

  constructor(deliver: (chunk: Uint8Array, isBinary: boolean) => void, limits: PostLimits, fail: (reason: string) => void) {
    this.#deliver = deliver;
    this.#limits = limits;
    this.#fail = fail;
  }

  /** Queues one POST; it is read once those before it are done. */
  receive(exchange: HttpExchange): void {
    exchange.pauseBody();
    this.#queue = this.#queue.then(() => this.#read(exchange));
  }

  pause(): void {
    this.#paused = true;
    this.#current?.pauseBody();
  }

  resume(): void {
    this.#paused = false;
    this.#current?.resumeBody();
  }

  /** Later POSTs are answered 404: the connection is gone. */
  close(): void {
    this.#closed = true;
  }

  #read(exchange: HttpExchange): Promise<void> {
    if (this.#closed) {
      exchange.discardBody();
      respondText(exchange, 404, "No Connection with that ID");
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const contentType = exchange.headers["content-type"];
      const isBinary = typeof contentType === "string" && contentType.startsWith("application/octet-stream");
      let total = 0;
      let idle: ReturnType<typeof setTimeout> | undefined;
      let done = false;
      const finish = (status: number, text?: string) => {
        if (done) return;
        done = true;
        clearTimeout(idle);
        this.#current = undefined;
        respondText(exchange, status, text);
        // A refused body may never end (or trickle on): answer, then close its connection.
        if (status === 408 || status === 413) exchange.closeAfterAnswer();
        else if (status !== 200) exchange.discardBody();
        resolve();
      };
      const armIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          finish(408, "The request body stalled.");
          this.#fail("A POST body sent nothing within the timeout.");
        }, this.#limits.idleTimeoutMs);
      };
      const startedAt = monotonicNow();
      exchange.readBody({
        data: (chunk) => {
          if (done) return;
          total += chunk.byteLength;
          const elapsedMs = monotonicNow() - startedAt;
          if (elapsedMs > this.#limits.idleTimeoutMs && (total * 1000) / elapsedMs < MIN_BODY_BYTES_PER_SECOND) {
            finish(408, "The request body arrived too slowly.");
            this.#fail("A POST body arrived below the minimum data rate.");
            return;
          }
          if (total > this.#limits.maxBodyBytes) {
            finish(413, `The request body is over the limit of ${this.#limits.maxBodyBytes} bytes.`);
            this.#fail("A POST body was over the limit.");
            return;
          }
          armIdle();
          this.#deliver(chunk, isBinary);
        },
        // A body read to its end was delivered whole, even if what it said ended the connection
        // (a Close, bad input): 200, as .NET answers once the body is in the connection's pipe.
        end: () => finish(200),
        error: (reason) => finish(400, reason),
      });
      this.#current = exchange;
      armIdle();
      if (!this.#paused) exchange.resumeBody();
    });
  }
}
