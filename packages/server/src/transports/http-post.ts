/**
 * Sends from the client for Server-Sent Events and long polling: `POST {hub}?id=<token>` with one
 * or more complete records. Bodies are fed to the connection as they arrive, never buffered whole;
 * one POST at a time per connection (a second waits its turn, as the .NET server serialises them),
 * and a body past the size cap or silent for too long is refused.
 *
 * @module
 */
import { constants as http2Constants } from "node:http2";
import type { HubRequest, HubResponse } from "../http-request.js";
import { monotonicNow } from "../monotonic-clock.js";

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

/** How long a refused request's socket reads and drops what its client still sends, before it is destroyed. */
const LINGER_MS = 1_000;

/**
 * Closes the socket of a request whose body was refused. The answer has gone; the socket ends after
 * it, and what the client is still sending is read and dropped for a moment: destroying a socket
 * with unread data resets the connection, and a client still writing its body would then lose the
 * answer. Then the socket is destroyed, however much more the client sends.
 *
 * Over HTTP/2 the socket carries the session's other streams: only this request's stream is
 * closed, with NO_ERROR, which tells the client to stop sending a body whose answer it has.
 */
function lingerThenClose(request: HubRequest): void {
  if ("stream" in request) {
    request.stream.close(http2Constants.NGHTTP2_NO_ERROR);
    return;
  }
  const socket = request.socket;
  request.resume();
  socket.end();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

function answer(response: HubResponse, status: number, text = ""): void {
  if (response.headersSent || response.writableEnded) return;
  // With its length: an answer without one goes chunked, three pieces where one will do.
  response
    .writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-cache, no-store", "Content-Length": String(Buffer.byteLength(text)) })
    .end(text);
}

/** Reads POST bodies into a connection, one request at a time. */
export class PostReceiver {
  readonly #deliver: (chunk: Uint8Array, isBinary: boolean) => void;
  readonly #limits: PostLimits;
  /** Ends a connection that broke the limits. */
  readonly #fail: (reason: string) => void;
  #queue: Promise<void> = Promise.resolve();
  #current: HubRequest | undefined;
  #paused = false;
  #closed = false;

  constructor(deliver: (chunk: Uint8Array, isBinary: boolean) => void, limits: PostLimits, fail: (reason: string) => void) {
    this.#deliver = deliver;
    this.#limits = limits;
    this.#fail = fail;
  }

  /** Queues one POST; it is read once those before it are done. */
  receive(request: HubRequest, response: HubResponse): void {
    request.pause();
    this.#queue = this.#queue.then(() => this.#read(request, response));
  }

  pause(): void {
    this.#paused = true;
    this.#current?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#current?.resume();
  }

  /** Later POSTs are answered 404: the connection is gone. */
  close(): void {
    this.#closed = true;
  }

  #read(request: HubRequest, response: HubResponse): Promise<void> {
    if (this.#closed) {
      answer(response, 404, "No Connection with that ID");
      request.resume();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const isBinary = request.headers["content-type"]?.startsWith("application/octet-stream") === true;
      let total = 0;
      let idle: NodeJS.Timeout | undefined;
      const finish = (status: number, text?: string) => {
        clearTimeout(idle);
        this.#current = undefined;
        request.removeAllListeners("data");
        answer(response, status, text);
        // A refused body may never end (or trickle on): answer, then close the socket.
        if (status === 408 || status === 413) response.once("finish", () => lingerThenClose(request));
        else if (status !== 200) request.resume();
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
      request.on("data", (chunk: Buffer) => {
        total += chunk.length;
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
      });
      // A body read to its end was delivered whole, even if what it said ended the connection
      // (a Close, bad input): 200, as .NET answers once the body is in the connection's pipe.
      request.once("end", () => finish(200));
      request.once("error", () => finish(400, "Reading the request body failed."));
      request.once("close", () => {
        if (this.#current === request) finish(400, "The request was aborted.");
      });
      this.#current = request;
      armIdle();
      if (!this.#paused) request.resume();
    });
  }
}
