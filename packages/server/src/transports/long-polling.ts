/**
 * The long-polling transport: the client fetches with `GET {hub}?id=<token>` what the server has
 * queued, and sends with POST. The first poll returns 200 at once with nothing (it only confirms
 * the connection); a later one waits for data or the poll timeout (200, empty); a newer poll ends
 * the older with 204; 204 says the connection is over; `DELETE` ends it (202).
 *
 * @module
 */
import { TransportName } from "@hubwire/protocol";
import type { HubRequest, HubResponse } from "../http-request.js";
import { PostReceiver, type PostLimits } from "./http-post.js";
import type { Transport, TransportListener } from "./transport.js";

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
function answerHeaders(length: number, contentType?: string) {
  return contentType === undefined
    ? { "Cache-Control": noCache["Cache-Control"], Pragma: noCache.Pragma, Expires: noCache.Expires, "Content-Length": String(length) }
    : { "Cache-Control": noCache["Cache-Control"], Pragma: noCache.Pragma, Expires: noCache.Expires, "Content-Type": contentType, "Content-Length": String(length) };
}

export class LongPollingTransport implements Transport {
  readonly #options: LongPollingOptions;
  readonly #listener: TransportListener;
  readonly #posts: PostReceiver;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #poll: { response: HubResponse; timer: NodeJS.Timeout } | undefined;
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

  constructor(listener: TransportListener, options: LongPollingOptions, fail: (reason: string) => void) {
    this.#listener = listener;
    this.#options = options;
    this.#posts = new PostReceiver((chunk) => listener.receive(this, chunk), options, fail);
    this.#idleSince = options.now();
  }

  get bufferedBytes(): number {
    return this.#queuedBytes;
  }

  get idleSince(): number | undefined {
    return this.#poll === undefined ? this.#idleSince : undefined;
  }

  /** Whether it has closed (later polls get 204 once the queue is drained). */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Whether it has closed and a poll has been told so (204): the client knows the connection is
   * over, and any later request for it is answered 404, as .NET removes the connection then.
   */
  get hasAnsweredEnd(): boolean {
    return this.#endAnswered;
  }

  /** The first GET: confirms the connection, at once and empty. */
  firstPoll(response: HubResponse): void {
    this.#idleSince = this.#options.now();
    response.writeHead(200, answerHeaders(0)).end();
  }

  /** A later GET: delivers what is queued, or waits for it. */
  poll(response: HubResponse): void {
    if (this.#poll !== undefined) this.#endPoll(204);
    if (this.#queue.length > 0) return this.#deliver(response);
    if (this.#closed) {
      this.#endAnswered = true;
      response.writeHead(204, noCache).end();
      return;
    }
    const timer = setTimeout(() => this.#endPoll(200), this.#options.pollTimeoutMs);
    this.#poll = { response, timer };
    // The client gave up on this poll (its own timeout, a closed tab): stop holding it.
    response.once("close", () => {
      if (this.#poll?.response === response) {
        clearTimeout(timer);
        this.#poll = undefined;
        this.#idleSince = this.#options.now();
      }
    });
  }

  /** A POST with messages. */
  post(request: HubRequest, response: HubResponse): void {
    this.#posts.receive(request, response);
  }

  send(data: Uint8Array): void {
    if (this.#closed) return;
    this.#queue.push(data);
    this.#queuedBytes += data.length;
    if (this.#poll !== undefined) {
      const { response, timer } = this.#poll;
      clearTimeout(timer);
      this.#poll = undefined;
      this.#deliver(response);
    } else if (this.#queuedBytes > this.#options.maxQueuedBytes) {
      this.#queue = [];
      this.#queuedBytes = 0;
      this.close();
      this.#listener.transportClosed(this, new Error("The long-polling client fell too far behind: its queue is over the limit."));
    }
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

  #deliver(response: HubResponse): void {
    const queue = this.#queue;
    const body = queue.length === 1 ? queue[0]! : Buffer.concat(queue);
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#idleSince = this.#options.now();
    response.writeHead(200, answerHeaders(body.byteLength, "application/octet-stream")).end(body);
  }

  #endPoll(status: 200 | 204): void {
    const poll = this.#poll!;
    clearTimeout(poll.timer);
    this.#poll = undefined;
    if (status === 204 && this.#closed) this.#endAnswered = true;
    this.#idleSince = this.#options.now();
    poll.response.writeHead(status, status === 200 ? answerHeaders(0) : noCache).end();
  }
}
