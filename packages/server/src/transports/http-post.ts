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

/**
 * Reads POST bodies into a connection, one request at a time.
 *
 * The idle limit is checked on its transport's {@link PostReceiver.tick} (the endpoint's clock),
 * not by a timer per body: arming and clearing a timer on every POST and every chunk cost more
 * than a long-polling echo's own hub work. Once closed the receiver is no longer ticked, so a body
 * still in flight then gets a timer of its own.
 */
export class PostReceiver {
  readonly #deliver: (chunk: Uint8Array, isBinary: boolean) => void;
  readonly #limits: PostLimits;
  /** Ends a connection that broke the limits. */
  readonly #fail: (reason: string) => void;
  /** POSTs waiting for the one being read, oldest first. */
  #waiting: HttpExchange[] = [];
  #current: HttpExchange | undefined;
  /** When the body being read last sent something (monotonic ms). */
  #lastDataAt = 0;
  /** Refuses the body being read as stalled (408) and ends the connection. */
  #stall: (() => void) | undefined;
  /** The idle limit's timer once closed (see {@link PostReceiver.close}). */
  #closedTimer: ReturnType<typeof setTimeout> | undefined;
  #paused = false;
  #closed = false;

  constructor(deliver: (chunk: Uint8Array, isBinary: boolean) => void, limits: PostLimits, fail: (reason: string) => void) {
    this.#deliver = deliver;
    this.#limits = limits;
    this.#fail = fail;
  }

  /** Reads one POST now, or queues it (unread) until those before it are done. */
  receive(exchange: HttpExchange): void {
    if (this.#current === undefined) return this.#read(exchange);
    exchange.pauseBody();
    this.#waiting.push(exchange);
  }

  pause(): void {
    this.#paused = true;
    this.#current?.pauseBody();
  }

  resume(): void {
    this.#paused = false;
    this.#current?.resumeBody();
  }

  /** Refuses the body being read if it has sent nothing for the idle timeout. Called on every tick of its transport. */
  tick(): void {
    if (this.#stall !== undefined && monotonicNow() - this.#lastDataAt >= this.#limits.idleTimeoutMs) this.#stall();
  }

  /** Later POSTs are answered 404: the connection is gone. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#current !== undefined) this.#watchWithoutTicks();
  }

  /** Closed, it is ticked no more: the body still being read keeps its idle limit on a timer. */
  #watchWithoutTicks(): void {
    if (this.#stall === undefined) return;
    const remainingMs = this.#lastDataAt + this.#limits.idleTimeoutMs - monotonicNow();
    this.#closedTimer = setTimeout(() => {
      this.tick();
      this.#watchWithoutTicks();
    }, Math.max(0, remainingMs) + 1);
  }

  /** The body being read is done with: the next waiting POST is read. */
  #next(): void {
    this.#stall = undefined;
    clearTimeout(this.#closedTimer);
    if (this.#waiting.length === 0) {
      this.#current = undefined;
      return;
    }
    // A turn later, once what ended this body has played out: a refusal that ends the connection
    // must close it before the next body is read (that one is then answered 404).
    queueMicrotask(() => this.#read(this.#waiting.shift()!));
  }

  #read(exchange: HttpExchange): void {
    if (this.#closed) {
      exchange.discardBody();
      respondText(exchange, 404, "No Connection with that ID");
      return this.#next();
    }
    const contentType = exchange.headers["content-type"];
    const isBinary = typeof contentType === "string" && contentType.startsWith("application/octet-stream");
    let total = 0;
    let done = false;
    const finish = (status: number, text?: string) => {
      if (done) return;
      done = true;
      respondText(exchange, status, text);
      // A refused body may never end (or trickle on): answer, then close its connection.
      if (status === 408 || status === 413) exchange.closeAfterAnswer();
      else if (status !== 200) exchange.discardBody();
      this.#next();
    };
    const startedAt = monotonicNow();
    this.#current = exchange;
    this.#lastDataAt = startedAt;
    this.#stall = () => {
      finish(408, "The request body stalled.");
      this.#fail("A POST body sent nothing within the timeout.");
    };
    if (this.#paused) exchange.pauseBody();
    exchange.readBody({
      data: (chunk) => {
        if (done) return;
        total += chunk.byteLength;
        const now = monotonicNow();
        const elapsedMs = now - startedAt;
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
        this.#lastDataAt = now;
        this.#deliver(chunk, isBinary);
      },
      // A body read to its end was delivered whole, even if what it said ended the connection
      // (a Close, bad input): 200, as .NET answers once the body is in the connection's pipe.
      end: () => finish(200),
      error: (reason) => finish(400, reason),
    });
    if (!this.#paused) exchange.resumeBody();
  }
}
