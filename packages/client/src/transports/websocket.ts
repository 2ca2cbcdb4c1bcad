/**
 * The WebSockets transport. JSON goes in text frames, MessagePack in binary ones. In browsers the
 * access token travels as `access_token` in the URL (a browser WebSocket cannot set headers); in
 * Node, with a WebSocket class such as `ws`, as an `Authorization` header with the custom headers.
 *
 * @module
 */
import { TransportError } from "../errors.js";
import { type HttpOptions, isNode } from "../http.js";
import type { Transport, WebSocketConstructor } from "./transport.js";
import { webSocketClass } from "./websocket-class.js";

/** A WebSocket as this transport reads it: the browser's and `ws`'s both behave so. */
interface Socket {
  binaryType: string;
  readonly readyState: number;
  onopen: (() => void) | null;
  onmessage: ((event: { data: string | ArrayBuffer }) => void) | null;
  onclose: ((event: { code: number; reason: string; wasClean?: boolean }) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number): void;
}

/** The class, called as each runtime allows: with `ws`'s options (headers) in Node. */
type SocketConstructor = new (url: string, protocols?: string | string[], options?: { headers: Record<string, string> }) => Socket;

export class WebSocketTransport implements Transport {
  readonly name = "WebSockets";
  onreceive: Transport["onreceive"];
  onclose: Transport["onclose"];
  readonly #http: HttpOptions;
  readonly #WebSocket: WebSocketConstructor | undefined;
  #socket: Socket | undefined;
  #stopped = false;

  /**
   * Takes the connection's HTTP options for the access token and, in Node, the headers; and the
   * `WebSocket` option, if given (else see `websocket-class.ts`).
   */
  constructor(http: HttpOptions, WebSocketClass: WebSocketConstructor | undefined) {
    this.#http = http;
    this.#WebSocket = WebSocketClass;
  }

  async connect(url: string, binary: boolean): Promise<void> {
    const WebSocketClass = (await webSocketClass(this.#WebSocket)) as unknown as SocketConstructor;
    const token = await this.#http.accessToken?.();
    let target = url.replace(/^http/, "ws");
    let socket: Socket;
    if (isNode) {
      socket = new WebSocketClass(target, undefined, { headers: { ...this.#http.headers, ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
    } else {
      if (token) target += `${target.includes("?") ? "&" : "?"}access_token=${encodeURIComponent(token)}`;
      socket = new WebSocketClass(target);
    }
    socket.binaryType = "arraybuffer";
    // Listen before the socket opens: a server may send in the same packet as its upgrade answer
    // (after a stateful re-attach it sends Sequence at once).
    socket.onmessage = (event) => this.onreceive?.(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onclose = (event) => reject(new TransportError(this.name, `Could not connect (close code ${event.code}).`));
    });
    this.#socket = socket;
    socket.onclose = (event) => {
      this.#socket = undefined;
      const clean = this.#stopped || (event.code === 1000 && event.wasClean !== false);
      this.onclose?.(
        clean ? undefined : new TransportError(this.name, `WebSocket closed with status code: ${event.code} (${event.reason || "no reason given"}).`),
      );
    };
    void binary;
  }

  async send(data: string | Uint8Array): Promise<void> {
    if (this.#socket?.readyState !== 1) throw new TransportError(this.name, "The WebSocket is not open.");
    this.#socket.send(data);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const socket = this.#socket;
    if (socket === undefined) return;
    await new Promise<void>((resolve) => {
      const closed = socket.onclose;
      socket.onclose = (event) => {
        closed?.call(socket, event);
        resolve();
      };
      socket.close(1000);
    });
  }
}
