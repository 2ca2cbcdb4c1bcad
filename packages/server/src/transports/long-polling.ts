/**
 * The long-polling transport: the client fetches with `GET {hub}?id=<token>` what the server has
 * queued, and sends with POST. The first poll returns 200 at once with nothing (it only confirms
 * the connection); a later one waits for data or the poll timeout (200, empty); a newer poll ends
 * the older with 204; 204 says the connection is over; `DELETE` ends it (202).
 *
 * @module
 */
import { TransportName } from "@hubwire/protocol";
import { refuse, respondText } from "../http-request.js";
import type { HttpExchange } from "../runtime/http-exchange.js";
import { type PostLimits, PostReceiver } from "./http-post.js";
import type { Transport, TransportListener, TransportRequest } from "./transport.js";

/** Options of {@link LongPollingTransport}. */
export interface LongPollingOptions extends PostLimits {
  /** A poll with nothing to deliver is answered empty after this long. Default 90 s. */
  readonly pollTimeoutMs: number;
  /** Bytes queued for a client that does not poll; past this the connection ends. */
  readonly maxQueuedBytes: number;
  readonly now: () => number;
}

/** Poll answers must never be cached (ASP.NET Core sends the same three headers). */
const noCache = { "Cache-Control": "no-cache, no-store", Pragma: "no-cache", Expires: "0" };

/**
 * The headers of a poll answer with a body of `length` bytes. A literal of one shape per answer:
 * spreading `noCache` into each answer instead cost about a sixth of the server's CPU per
 * long-polling echo (measured against socket.io polling in the same runs).
 */
function answerHeaders(length: number, contentType?: string): Readonly<Record<string, string>> {
  return contentType === undefined
    ? { "Cache-Control": noCache["Cache-Control"], Pragma: noCache.Pragma, Expires: noCache.Expires, "Content-Length": String(length) }
    : {
        "Cache-Control": noCache["Cache-Control"],
        Pragma: noCache.Pragma,
        Expires: noCache.Expires,
        "Content-Type": contentType,
        "Content-Length": String(length),
      };
}

export class LongPollingTransport implements Transport {
  readonly #options: LongPollingOptions;
  readonly #listener: TransportListener;
  readonly #posts: PostReceiver;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  /** The poll waiting for something to deliver, and since when (on `options.now`'s clock). */
  #poll: { exchange: HttpExchange; since: number } | undefined;
  #idleSince: number | undefined;
  #closed = false;
  /** Whether a poll has been told the connection is over (204 after it closed). */
  #endAnswered = false;

  // Constants as getters on the prototype: fields would be stored in every connection's transport.
  get name(): typeof TransportName.LongPolling {
    return TransportName.LongPolling;
  }

  get hasInherentKeepAlive(): boolean {
    return true;
  }

  get supportsBinary(): boolean {
    return true;
  }

  /**
   * `firstPoll` is the GET that started the transport: it is answered at once and empty, as .NET
   * answers it (it only confirms the connection).
   */
  constructor(listener: TransportListener, options: LongPollingOptions, fail: (reason: string) => void, firstPoll: HttpExchange) {
    this.#listener = listener;
    this.#options = options;
    this.#posts = new PostReceiver((chunk, isBinary) => listener.receive(this, chunk, isBinary), options, fail);
    this.#idleSince = options.now();
    firstPoll.discardBody();
    firstPoll.respond(200, answerHeaders(0));
  }

  get bufferedBytes(): number {
    return this.#queuedBytes;
  }

  get idleSince(): number | undefined {
    return this.#poll === undefined ? this.#idleSince : undefined;
  }

  /**
   * Closed, and no poll has been told so yet (204): its client still learns of the end by polling.
   * Once it has, any later request for the connection is answered 404, as .NET removes it then.
   */
  get isDraining(): boolean {
    return this.#closed && !this.#endAnswered;
  }

  handleRequest(kind: TransportRequest, exchange: HttpExchange): void {
    switch (kind) {
      case "poll":
        exchange.discardBody();
        return this.poll(exchange);
      case "send":
        return this.#posts.receive(exchange);
      case "events":
        return refuse(exchange, 400, "Cannot change transports mid-connection");
      case "delete":
        // The client ends the connection: the poll in flight gets 204, the connection ends cleanly.
        exchange.discardBody();
        if (!this.#closed) {
          this.close();
          this.#listener.clientEnded(this);
        }
        return respondText(exchange, 202);
    }
  }

  /** A later GET: delivers what is queued, or waits for it. */
  poll(exchange: HttpExchange): void {
    if (this.#poll !== undefined) this.#endPoll(204);
    if (this.#queue.length > 0) return this.#deliver(exchange);
    if (this.#closed) {
      this.#endAnswered = true;
      exchange.respond(204, noCache);
      return;
    }
    // Its timeout is checked on the endpoint's tick: a timer per poll cost more than the poll's answer.
    this.#poll = { exchange, since: this.#options.now() };
    // The client gave up on this poll (its own timeout, a closed tab): stop holding it.
    exchange.onClose(() => {
      if (this.#poll?.exchange === exchange) {
        this.#poll = undefined;
        this.#idleSince = this.#options.now();
      }
    });
  }

  send(data: Uint8Array): void {
    if (this.#closed) return;
    this.#queue.push(data);
    this.#queuedBytes += data.length;
    if (this.#poll !== undefined) {
      const { exchange } = this.#poll;
      this.#poll = undefined;
      this.#deliver(exchange);
    } else if (this.#queuedBytes > this.#options.maxQueuedBytes) {
      this.#queue = [];
      this.#queuedBytes = 0;
      this.close();
      this.#listener.transportClosed(this, new Error("The long-polling client fell too far behind: its queue is over the limit."));
    }
  }

  /** Answers a poll that waited out the poll timeout (200, empty), and checks the POST in flight. */
  tick(now: number): void {
    if (this.#poll !== undefined && now - this.#poll.since >= this.#options.pollTimeoutMs) this.#endPoll(200);
    this.#posts.tick();
  }

  /** Stops sending; what is queued is still delivered to the next poll, then polls get 204. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#posts.close();
    if (this.#poll !== undefined && this.#queue.length === 0) this.#endPoll(204);
  }

  pause(): void {
    this.#posts.pause();
  }

  resume(): void {
    this.#posts.resume();
  }

  #deliver(exchange: HttpExchange): void {
    const queue = this.#queue;
    const body = queue.length === 1 ? queue[0]! : Buffer.concat(queue);
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#idleSince = this.#options.now();
    exchange.respond(200, answerHeaders(body.byteLength, "application/octet-stream"), body);
  }

  #endPoll(status: 200 | 204): void {
    const poll = this.#poll!;
    this.#poll = undefined;
    if (status === 204 && this.#closed) this.#endAnswered = true;
    this.#idleSince = this.#options.now();
    poll.exchange.respond(status, status === 200 ? answerHeaders(0) : noCache);
  }
}
