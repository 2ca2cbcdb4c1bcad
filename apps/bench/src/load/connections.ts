/**
 * The generator's connections: raw `ws` sockets, plain TCP, and the three long-polling dialects
 * (SignalR's, engine.io's, and the node:http ceiling's).
 * Each opens, completes its system's handshake, then hands incoming data to the codec's reader
 * and sends pre-encoded frames as they are.
 */
import { Agent, request } from "node:http";
import { connect as connectTcp } from "node:net";
import { WebSocket } from "ws";
import type { Codec, Reader } from "./codecs.js";
import { type HttpAnswer, HttpExchange } from "./http-exchange.js";

export interface BenchConnection {
  send(frame: Buffer): void;
  close(): void;
}

export interface OpenOptions {
  readonly localAddress?: string;
  /** Called once if the connection fails or the server closes it after it opened. */
  readonly onFailure: (error: Error) => void;
}

const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
const RS = 0x1e;

/** A system's opening exchange: `accept` returns true once the connection is ready. */
export interface WebSocketHandshake {
  start?(socket: WebSocket): void;
  accept(socket: WebSocket, message: Buffer): boolean;
}

/** A WebSocket; `handshake` sees every message until it resolves, then the reader does. */
export function openWebSocket(url: string, codec: Codec, reader: Reader, options: OpenOptions, handshake?: WebSocketHandshake): Promise<BenchConnection> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) });
    let opened = false;
    let isClosing = false;
    let hasFailed = false;
    // Once per connection, as OpenOptions promises: an error is followed by a close.
    const fail = (error: Error) => {
      if (hasFailed) return;
      hasFailed = true;
      options.onFailure(error);
    };
    const connection: BenchConnection = {
      send: (frame) => socket.send(frame, { binary: codec.binary }),
      close: () => {
        isClosing = true;
        socket.terminate();
      },
    };
    const ready = () => {
      opened = true;
      resolve(connection);
    };
    let handshaking = handshake !== undefined;
    socket.on("message", (data: Buffer) => {
      try {
        if (handshaking) {
          handshaking = !handshake!.accept(socket, data);
          if (!handshaking) ready();
          return;
        }
        const answer = reader(data);
        if (answer !== undefined) socket.send(answer, { binary: false });
      } catch (error) {
        fail(error as Error);
        socket.terminate();
      }
    });
    socket.on("open", () => {
      if (handshake === undefined) ready();
      else handshake.start?.(socket);
    });
    socket.on("error", (error) => (opened ? fail(error) : reject(error)));
    socket.on("close", (code) => {
      if (!opened) reject(new Error(`Closed during the handshake (${code}).`));
      // A server that goes away cleanly (a process that exits) sends no error: the close is the failure.
      else if (!isClosing) fail(new Error(`The server closed the connection (${code}).`));
    });
  });
}

/** SignalR's handshake over a WebSocket: send the request, take `{}` and anything after it. */
export function signalRHandshake(protocol: "json" | "messagepack", reader: Reader): WebSocketHandshake {
  return {
    start: (socket: WebSocket) => socket.send(`{"protocol":"${protocol}","version":1}\u001e`),
    accept: (_socket: WebSocket, message: Buffer): boolean => {
      const end = message.indexOf(RS);
      const response = message.toString("utf8", 0, end);
      if (response !== "{}") throw new Error(`Handshake refused: ${response}`);
      if (end + 1 < message.length) reader(message.subarray(end + 1));
      return true;
    },
  };
}

/** engine.io's open packet, then socket.io's namespace connect (`40`). */
export const socketIoHandshake: WebSocketHandshake = {
  accept(socket, message) {
    const packet = message.toString("utf8");
    if (packet.startsWith("0")) {
      socket.send("40");
      return false;
    }
    if (packet.startsWith("40")) return true;
    throw new Error(`Unexpected packet during the socket.io handshake: ${packet}`);
  },
};

export function openPlainTcp(host: string, port: number, reader: Reader, options: OpenOptions): Promise<BenchConnection> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host, port, noDelay: true, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) });
    socket.on("data", (data) => reader(data));
    socket.once("connect", () => {
      socket.off("error", reject);
      socket.on("error", options.onFailure);
      resolve({ send: (frame) => socket.write(frame), close: () => socket.destroy() });
    });
    socket.once("error", reject);
  });
}

/** The opening requests, through Node's client; the traffic measured goes through {@link HttpExchange}. */
function http(method: "GET" | "POST", url: string, body?: Buffer, localAddress?: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method, agent, ...(localAddress === undefined ? {} : { localAddress }) }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
      response.on("error", reject);
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

/**
 * One long-polling connection: a poll always outstanding, and at most one POST in flight, with
 * frames sent meanwhile joined into the next (as both official clients batch). Polls and POSTs
 * each have a keep-alive socket of their own, as a browser would use two.
 */
class LongPollingConnection implements BenchConnection {
  #open = true;
  #posting = false;
  #queued: Buffer[] = [];
  readonly #path: string;
  readonly #polls: HttpExchange;
  readonly #posts: HttpExchange;

  constructor(
    url: string,
    private readonly join: (frames: Buffer[]) => Buffer,
    private readonly reader: Reader,
    private readonly options: OpenOptions,
  ) {
    const parsed = new URL(url);
    this.#path = parsed.pathname + parsed.search;
    this.#polls = new HttpExchange(parsed, options.localAddress);
    this.#posts = new HttpExchange(parsed, options.localAddress);
  }

  /**
   * Polls until closed. `first` sees each poll's body until it takes one (returns what follows
   * the handshake answer rather than null): a SignalR server answers the very first poll at once
   * and empty.
   */
  poll(first?: (body: Buffer) => Buffer | null): Promise<void> {
    return this.#polls.request("GET", this.#path).then(({ status, body }) => {
      if (!this.#open) return;
      if (status !== 200) throw new Error(`Poll answered ${status}: ${body.toString()}`);
      const rest = first === undefined ? body : first(body);
      if (rest !== null && rest.length > 0) {
        const answer = this.reader(rest);
        if (answer !== undefined) this.send(answer);
      }
      void this.poll(rest === null ? first : undefined).catch((error: Error) => this.#fail(error));
    });
  }

  /** Polls until closed, for a dialect with nothing to wait for before the first poll. */
  startPolling(): void {
    this.poll().catch((error: Error) => this.#fail(error));
  }

  send(frame: Buffer): void {
    this.#queued.push(frame);
    if (!this.#posting) this.#flush();
  }

  #flush(): void {
    const frames = this.#queued;
    this.#queued = [];
    this.#posting = true;
    this.#posts
      .request("POST", this.#path, this.join(frames))
      .then(({ status, body }) => {
        if (status !== 200) throw new Error(`Send answered ${status}: ${body.toString()}`);
        this.#posting = false;
        if (this.#queued.length > 0 && this.#open) this.#flush();
      })
      .catch((error: Error) => this.#fail(error));
  }

  #fail(error: Error): void {
    if (!this.#open) return;
    this.#open = false;
    this.options.onFailure(error);
  }

  close(): void {
    this.#open = false;
    this.#polls.close();
    this.#posts.close();
  }
}

/** SignalR long polling: negotiate, POST the handshake, then poll. */
export async function openSignalRLongPolling(baseUrl: string, reader: Reader, options: OpenOptions): Promise<BenchConnection> {
  const negotiated = await http("POST", `${baseUrl}/negotiate?negotiateVersion=1`, undefined, options.localAddress);
  const { connectionToken } = JSON.parse(negotiated.body.toString()) as { connectionToken: string };
  const url = `${baseUrl}?id=${encodeURIComponent(connectionToken)}`;
  // As the SignalR clients do: the first poll binds the transport (and is answered at once);
  // only then may the handshake be POSTed.
  const bound = await http("GET", url, undefined, options.localAddress);
  if (bound.status !== 200) throw new Error(`The first poll answered ${bound.status}: ${bound.body.toString()}`);
  const connection = new LongPollingConnection(url, Buffer.concat, reader, options);
  const handshaken = new Promise<void>((resolve, reject) => {
    connection
      .poll((body) => {
        if (body.length === 0) return null;
        const end = body.indexOf(RS);
        if (body.toString("utf8", 0, end) !== "{}") reject(new Error(`Handshake refused: ${body.toString()}`));
        resolve();
        return body.subarray(end + 1);
      })
      .catch(reject);
  });
  connection.send(Buffer.from(`{"protocol":"json","version":1}\u001e`));
  await handshaken;
  return connection;
}

const joinPackets = (frames: Buffer[]) => Buffer.concat(frames.flatMap((frame, index) => (index === 0 ? [frame] : [Buffer.of(RS), frame])));

/** engine.io 4 polling: the open packet, socket.io's `40` connect, then poll. */
export async function openSocketIoPolling(baseUrl: string, reader: Reader, options: OpenOptions): Promise<BenchConnection> {
  const open = await http("GET", `${baseUrl}/socket.io/?EIO=4&transport=polling`, undefined, options.localAddress);
  const { sid } = JSON.parse(open.body.toString().slice(1)) as { sid: string };
  const connection = new LongPollingConnection(`${baseUrl}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, joinPackets, reader, options);
  connection.send(Buffer.from("40"));
  await new Promise<void>((resolve, reject) => {
    connection
      .poll((body) => {
        if (body.length === 0) return null;
        const [first, ...rest] = body.toString("utf8").split("\u001e");
        if (!first?.startsWith("40")) reject(new Error(`Unexpected packet during the socket.io handshake: ${first}`));
        resolve();
        return Buffer.from(rest.join("\u001e"));
      })
      .catch(reject);
  });
  return connection;
}

/**
 * The node:http ceiling (servers/http-long-polling-server.ts): `POST /open` for an id, then a
 * poll always waiting on `GET /poll?id=<id>` and each send a `POST` to the same path, with the
 * same requests, sockets and batching as the SignalR and engine.io connections above.
 */
export async function openHttpLongPolling(baseUrl: string, reader: Reader, options: OpenOptions): Promise<BenchConnection> {
  const opened = await http("POST", `${baseUrl}/open`, undefined, options.localAddress);
  if (opened.status !== 200) throw new Error(`Open answered ${opened.status}: ${opened.body.toString()}`);
  const connection = new LongPollingConnection(`${baseUrl}/poll?id=${opened.body.toString()}`, Buffer.concat, reader, options);
  connection.startPolling();
  return connection;
}
