/**
 * The seam between a connection and the way its bytes travel. WebSockets, Server-Sent Events and
 * long polling each fill it the same way, and each answers its own requests, so neither a
 * connection nor its endpoint ever asks which transport it holds.
 * A transport delivers what it receives with `connection.receive(transport, chunk)` and reports
 * its end with `connection.transportClosed(transport, error?)`.
 *
 * @module
 */
import type { TransportName } from "@hubwire/protocol";
import type { HttpExchange } from "../runtime/http-exchange.js";

/**
 * What an HTTP request for a running connection asks of its transport: a poll (a plain GET), an
 * event stream (a GET for `text/event-stream`), a send (POST) or the end (DELETE).
 */
export type TransportRequest = "poll" | "events" | "send" | "delete";

/** A connection's link to its client, as the connection sees it. */
export interface Transport {
  readonly name: TransportName;
  /** Writes one frame: text (JSON records) or binary (MessagePack records). Ignored once closed. */
  send(data: Uint8Array, isBinary: boolean): void;
  /** Ends the link. WebSockets send `code` and `reason` in their close frame. */
  close(code?: number, reason?: string): void;
  /** Stops delivering input until {@link Transport.resume}: back-pressure for a busy connection. */
  pause(): void;
  resume(): void;
  /** Bytes written and not yet flushed to the network. */
  readonly bufferedBytes: number;
  /**
   * Long polling proves liveness by polling: no pings, no client timeout. Such a transport tells
   * since when it has had no poll in flight instead (undefined while one is), and the connection
   * ends once that exceeds the disconnect timeout.
   */
  readonly idleSince?: number | undefined;
  readonly hasInherentKeepAlive: boolean;
  /** Whether it carries binary frames (MessagePack); Server-Sent Events carry text only. */
  readonly supportsBinary: boolean;
  /**
   * Answers a request for its connection after it started, with what SignalR answers on this
   * transport: a long poll polls and sends, and is ended by DELETE; others refuse what they do
   * not carry (400 "Cannot change transports mid-connection", 405 for a POST to a WebSocket...).
   */
  handleRequest(kind: TransportRequest, exchange: HttpExchange): void;
  /**
   * Whether, closed, it still has something to tell its client through requests (a long poll's
   * queued Close, then the 204 that says the connection is over). Its endpoint routes the
   * connection's polls to it until then.
   */
  readonly isDraining: boolean;
  /**
   * Checks its own deadlines (a parked poll's timeout, a stalled POST body) against `now`, on
   * every tick of its connection's endpoint (at least ten a timeout): one timer for every
   * connection instead of one per request. Transports without deadlines leave it out.
   */
  tick?(now: number): void;
}

/**
 * What a transport reports to its connection. Each call names the transport, so that a
 * connection that has moved to a new transport (stateful reconnect) ignores its old one.
 */
export interface TransportListener {
  /** `isBinary`: a binary WebSocket message, or a POST sent as `application/octet-stream`. */
  receive(from: Transport, chunk: Uint8Array, isBinary: boolean): void;
  /** The transport ended: a stateful connection awaits its client's re-attach, any other is over. */
  transportClosed(from: Transport, error?: Error): void;
  /** The client ended the connection itself (a long poll's DELETE): over, stateful or not. */
  clientEnded(from: Transport): void;
}
