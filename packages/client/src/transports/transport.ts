/**
 * The seam every client transport fills the same way (five members, as SignalR's ITransport, and
 * two flags for what differs between them), so the connection never branches on which one it has.
 *
 * @module
 */
import type { HttpOptions } from "../http.js";

/** A way to move frames between the client and the server. */
export interface Transport {
  /** The name negotiate uses: `WebSockets`, `ServerSentEvents` or `LongPolling`. */
  readonly name: string;
  /**
   * The transport keeps the connection alive itself (long polling: a poll is always open, and the
   * server's silence between messages is normal): no pings, and no server timeout. Default false.
   */
  readonly hasInherentKeepAlive?: boolean;
  /**
   * Connects to `url` (with `id` already in it). `binary` for MessagePack. Called again after a
   * drop, it re-attaches the same connection (stateful reconnect), over any of the three.
   */
  connect(url: string, binary: boolean): Promise<void>;
  /** Sends one frame (one or more complete records). */
  send(data: string | Uint8Array): Promise<void>;
  /** Closes; `onclose` is called once, without an error. */
  stop(): Promise<void>;
  /**
   * Drops the link at once, without telling the server, so that it is re-attached: a send failed
   * while the transport itself still looked up (an HTTP POST; a WebSocket's sends fail only as it
   * closes). `onclose` follows with `error`. Transports whose sends fail only as they close leave it out.
   */
  abandon?(error: Error): void;
  /** Frames from the server. */
  onreceive: ((data: string | Uint8Array) => void) | undefined;
  /** The transport ended: with an error unless `stop()` ended it. */
  onclose: ((error?: Error) => void) | undefined;
}

/** How the connection makes each transport: from its HTTP options, and the WebSocket class if there is one. */
export type TransportConstructor = new (http: HttpOptions, WebSocketClass: WebSocketConstructor | undefined) => Transport;

/**
 * A WebSocket class: the global one in browsers and Node 22+, or `ws`'s (`import { WebSocket }
 * from "ws"`). Typed by the little the client needs of it, so that each fits without a cast.
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: never) => WebSocketLike;

/**
 * What the client needs of a WebSocket. Event handlers take `never` so that the browser's socket
 * and `ws`'s, whose event types differ, both fit; `transports/websocket.ts` reads the events.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  send(data: never): void;
  close(code?: number, reason?: string): void;
}
