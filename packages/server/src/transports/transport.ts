/**
 * The seam between a hub connection and the way its bytes travel. WebSockets, Server-Sent Events
 * and long polling each fill it the same way, so a connection never branches on its transport.
 * A transport delivers what it receives with `connection.receive(transport, chunk)` and reports
 * its end with `connection.transportClosed(transport, error?)`.
 *
 * @module
 */
import type { TransportName } from "@hubwire/protocol";

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
}

/**
 * What a transport reports to its connection. Each call names the transport, so that a
 * connection that has moved to a new transport (stateful reconnect) ignores its old one.
 */
export interface TransportListener {
  receive(from: Transport, chunk: Uint8Array): void;
  transportClosed(from: Transport, error?: Error): void;
}
