/**
 * One keep-alive HTTP/1.1 connection for the long-polling load: it writes each request as one
 * buffer and reads the answer with the least parsing that keeps it correct (status, then a body
 * by `Content-Length` or chunked). Node's `http` client spends about as much CPU per request as
 * a Node server answering it, so with it the load process, not the server, bounded the
 * long-polling figures; this keeps the generator cheap, as the WebSocket load's pre-encoded
 * frames do.
 */
import { connect, type Socket } from "node:net";

/** An answer: its status and body. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: Buffer;
}

const HEAD_END = Buffer.from("\r\n\r\n");
const CRLF = Buffer.from("\r\n");

interface Pending {
  readonly resolve: (answer: HttpAnswer) => void;
  readonly reject: (error: Error) => void;
}

/** Requests one at a time over one socket; a second request waits for the first's answer. */
export class HttpExchange {
  readonly #socket: Socket;
  readonly #host: string;
  readonly #waiting: { readonly request: Buffer; readonly pending: Pending }[] = [];
  #pending: Pending | undefined;
  #received: Buffer = Buffer.alloc(0);
  #failure: Error | undefined;

  constructor(url: URL, localAddress?: string) {
    this.#host = url.host;
    this.#socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true, ...(localAddress === undefined ? {} : { localAddress }) });
    this.#socket.on("data", (data: Buffer) => this.#read(data));
    this.#socket.on("error", (error) => this.#fail(error));
    this.#socket.on("close", () => this.#fail(new Error("The server closed the connection.")));
  }

  /** Sends `method path` with `body`, and resolves with the answer. */
  request(method: "GET" | "POST", path: string, body?: Buffer): Promise<HttpAnswer> {
    const length = body === undefined ? "" : `Content-Length: ${body.length}\r\n`;
    const head = Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: ${this.#host}\r\n${length}\r\n`, "latin1");
    const request = body === undefined ? head : Buffer.concat([head, body]);
    return new Promise((resolve, reject) => {
      if (this.#failure !== undefined) return reject(this.#failure);
      const pending = { resolve, reject };
      if (this.#pending === undefined) this.#send(request, pending);
      else this.#waiting.push({ request, pending });
    });
  }

  close(): void {
    this.#failure ??= new Error("Closed.");
    this.#socket.destroy();
  }

  #send(request: Buffer, pending: Pending): void {
    this.#pending = pending;
    this.#socket.write(request);
  }

  #read(data: Buffer): void {
    this.#received = this.#received.length === 0 ? data : Buffer.concat([this.#received, data]);
    let answer: HttpAnswer | undefined;
    try {
      answer = this.#parse();
    } catch (error) {
      // An answer this reader cannot frame fails the requests, not the load process.
      this.#fail(error as Error);
      this.#socket.destroy();
      return;
    }
    if (answer === undefined) return;
    const pending = this.#pending!;
    this.#pending = undefined;
    const next = this.#waiting.shift();
    if (next !== undefined) this.#send(next.request, next.pending);
    pending.resolve(answer);
  }

  /** The answer, once all of it is here; one request is outstanding at a time, so nothing follows it. */
  #parse(): HttpAnswer | undefined {
    const received = this.#received;
    const headEnd = received.indexOf(HEAD_END);
    if (headEnd < 0) return undefined;
    const status = Number(received.toString("latin1", 9, 12));
    const head = received.toString("latin1", 0, headEnd).toLowerCase();
    const bodyStart = headEnd + HEAD_END.length;
    let body: Buffer | undefined;
    if (status === 204 || status === 304) body = Buffer.alloc(0);
    else if (head.includes("\r\ntransfer-encoding: chunked")) body = dechunk(received, bodyStart);
    else {
      const match = /\r\ncontent-length: *(\d+)/.exec(head);
      if (match === null) throw new Error(`An answer with neither Content-Length nor chunks: ${head}`);
      const end = bodyStart + Number(match[1]);
      if (received.length >= end) body = received.subarray(bodyStart, end);
    }
    if (body === undefined) return undefined;
    this.#received = Buffer.alloc(0);
    return { status, body };
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#pending?.reject(error);
    for (const { pending } of this.#waiting.splice(0)) pending.reject(error);
  }
}

/** The body of a chunked answer starting at `start`, or undefined until its last chunk is here. */
function dechunk(received: Buffer, start: number): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = received.indexOf(CRLF, at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(received.toString("latin1", at, lineEnd), 16);
    const dataStart = lineEnd + CRLF.length;
    if (size === 0) return received.length >= dataStart + CRLF.length ? Buffer.concat(parts) : undefined;
    if (received.length < dataStart + size + CRLF.length) return undefined;
    parts.push(received.subarray(dataStart, dataStart + size));
    at = dataStart + size + CRLF.length;
  }
}
