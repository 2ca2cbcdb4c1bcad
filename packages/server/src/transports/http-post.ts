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
import type { BodyReader, HttpExchange } from "../runtime/http-exchange.js";

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

/** What a body being read needs of its receiver: made once per receiver. */
interface BodyOwner {
  readonly deliver: (chunk: Uint8Array, isBinary: boolean) => void;
  readonly limits: PostLimits;
  /** Ends a connection that broke the limits. */
  readonly fail: (reason: string) => void;
  /** The body is done with: the next waiting POST may be read. */
  readonly finished: (body: PostBody) => void;
}

/**
 * One POST body being read: the reader its exchange reports to, and its state. A class, not an
 * object literal with closures: V8 pretenures an allocation site whose objects survive a young
 * collection, and a literal made per POST and held by the request's listeners was pretenured
 * under load; each then kept its young request alive until a full collection (issue #22).
 */
class PostBody implements BodyReader {
  readonly exchange: HttpExchange;
  /** When it last sent something (monotonic ms). */
  lastDataAt: number;
  #done = false;
  #total = 0;
  readonly #isBinary: boolean;
  readonly #startedAt: number;
  readonly #owner: BodyOwner;

  constructor(exchange: HttpExchange, owner: BodyOwner) {
    this.exchange = exchange;
    this.#owner = owner;
    const contentType = exchange.headers["content-type"];
    this.#isBinary = typeof contentType === "string" && contentType.startsWith("application/octet-stream");
    this.#startedAt = this.lastDataAt = monotonicNow();
  }

  get done(): boolean {
    return this.#done;
  }

  data(chunk: Uint8Array): void {
    if (this.#done) return;
    this.#total += chunk.byteLength;
    const { limits, fail } = this.#owner;
    const now = monotonicNow();
    const elapsedMs = now - this.#startedAt;
    if (elapsedMs > limits.idleTimeoutMs && (this.#total * 1000) / elapsedMs < MIN_BODY_BYTES_PER_SECOND) {
      this.#finish(408, "The request body arrived too slowly.");
      fail("A POST body arrived below the minimum data rate.");
      return;
    }
    if (this.#total > limits.maxBodyBytes) {
      this.#finish(413, `The request body is over the limit of ${limits.maxBodyBytes} bytes.`);
      fail("A POST body was over the limit.");
      return;
    }
    this.lastDataAt = now;
    this.#owner.deliver(chunk, this.#isBinary);
  }

  /** A body read to its end was delivered whole, even if what it said ended the connection (a Close, bad input): 200, as .NET answers once the body is in the connection's pipe. */
  end(): void {
    this.#finish(200);
  }

  error(reason: string): void {
    this.#finish(400, reason);
  }

  /** Refuses it as stalled (408) and ends the connection. */
  stall(): void {
    if (this.#done) return;
    this.#finish(408, "The request body stalled.");
    this.#owner.fail("A POST body sent nothing within the timeout.");
  }

  #finish(status: number, text?: string): void {
    if (this.#done) return;
    this.#done = true;
    const exchange = this.exchange;
    respondText(exchange, status, text);
    // A refused body may never end (or trickle on): answer, then close its connection.
    if (status === 408 || status === 413) exchange.closeAfterAnswer();
    else if (status !== 200) exchange.discardBody();
    this.#owner.finished(this);
  }
}

/**
 * Reads POST bodies into a connection, one request at a time.
 *
 * The idle limit is checked on its transport's {@link PostReceiver.tick} (the endpoint's clock),
 * not by a timer per body: arming and clearing a timer on every POST and every chunk cost more
 * than a long-polling echo's own hub work. Once closed the receiver is no longer ticked, so a body
 * still in flight then gets a timer of its own.
 */
export class PostReceiver {
  readonly #owner: BodyOwner;
  /** POSTs waiting for the one being read, oldest first. */
  #waiting: HttpExchange[] = [];
  #current: PostBody | undefined;
  /** The idle limit's timer once closed (see {@link PostReceiver.close}). */
  #closedTimer: ReturnType<typeof setTimeout> | undefined;
  #paused = false;
  #closed = false;

  constructor(deliver: (chunk: Uint8Array, isBinary: boolean) => void, limits: PostLimits, fail: (reason: string) => void) {
    this.#owner = { deliver, limits, fail, finished: (body) => this.#finished(body) };
  }

  /** Reads one POST now, or queues it (unread) until those before it are done. */
  receive(exchange: HttpExchange): void {
    if (this.#current === undefined) return this.#read(exchange);
    exchange.pauseBody();
    this.#waiting.push(exchange);
  }

  pause(): void {
    this.#paused = true;
    this.#current?.exchange.pauseBody();
  }

  resume(): void {
    this.#paused = false;
    this.#current?.exchange.resumeBody();
  }

  /** Refuses the body being read if it has sent nothing for the idle timeout. Called on every tick of its transport. */
  tick(): void {
    const body = this.#current;
    if (body !== undefined && !body.done && monotonicNow() - body.lastDataAt >= this.#owner.limits.idleTimeoutMs) body.stall();
  }

  /** Later POSTs are answered 404: the connection is gone. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#current !== undefined) this.#watchWithoutTicks();
  }

  /** Closed, it is ticked no more: the body still being read keeps its idle limit on a timer. */
  #watchWithoutTicks(): void {
    const body = this.#current;
    if (body === undefined || body.done) return;
    const remainingMs = body.lastDataAt + this.#owner.limits.idleTimeoutMs - monotonicNow();
    this.#closedTimer = setTimeout(() => {
      this.tick();
      this.#watchWithoutTicks();
    }, Math.max(0, remainingMs) + 1);
  }

  /** A body is done with: if it is the one being read, the next waiting POST is read. */
  #finished(body: PostBody): void {
    if (body !== this.#current) return;
    this.#next();
  }

  #next(): void {
    clearTimeout(this.#closedTimer);
    if (this.#waiting.length === 0) {
      this.#current = undefined;
      return;
    }
    // A turn later, once what ended this body has played out: a refusal that ends the connection
    // must close it before the next body is read (that one is then answered 404). Until then the
    // finished body stays current, so that a POST arriving meanwhile waits its turn.
    queueMicrotask(() => this.#read(this.#waiting.shift()!));
  }

  #read(exchange: HttpExchange): void {
    if (this.#closed) {
      exchange.discardBody();
      respondText(exchange, 404, "No Connection with that ID");
      return this.#next();
    }
    const body = new PostBody(exchange, this.#owner);
    this.#current = body;
    if (this.#paused) exchange.pauseBody();
    exchange.readBody(body);
    if (!this.#paused) exchange.resumeBody();
  }
}
