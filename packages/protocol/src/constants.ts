/**
 * Protocol constants and SignalR's defaults, in one table. Server and client read their
 * defaults from here so that the two never drift apart.
 *
 * @module
 * @example
 * ```ts
 * import { ProtocolDefaults } from "@hubwire/protocol";
 *
 * const keepAliveIntervalMs = options.keepAliveIntervalMs ?? ProtocolDefaults.keepAliveIntervalMs;
 * ```
 */

/** Ends every JSON record and every handshake message (ASCII Record Separator). */
export const RECORD_SEPARATOR = "\u001e";

/** {@link RECORD_SEPARATOR} as a byte. */
export const RECORD_SEPARATOR_CODE = 0x1e;

/** The defaults of ASP.NET Core SignalR, which the official clients are tuned against. */
export const ProtocolDefaults = {
  /** The server pings a connection it has sent nothing to for this long. */
  keepAliveIntervalMs: 15_000,
  /** The server closes a connection it has heard nothing from (pings included) for this long. */
  clientTimeoutMs: 30_000,
  /** The client gives up on a server it has heard nothing from for this long. */
  serverTimeoutMs: 30_000,
  /** A connection with no complete handshake after this long is closed. */
  handshakeTimeoutMs: 15_000,
  /** The largest incoming hub message, in bytes (`MaximumReceiveMessageSize`). */
  maxMessageBytes: 32 * 1024,
  /** The deepest nesting of a JSON message, itself included (System.Text.Json's `MaxDepth`). */
  maxJsonDepth: 64,
  /** Buffered bytes per connection before back-pressure (`ApplicationMaxBufferSize`). */
  maxBufferBytes: 64 * 1024,
  /** A long poll with nothing to deliver is answered empty after this long. */
  longPollTimeoutMs: 90_000,
  /** The client's own HTTP timeout for negotiate, sends and polls. */
  httpRequestTimeoutMs: 100_000,
  /** How long to wait for the peer's WebSocket close frame. */
  webSocketCloseTimeoutMs: 5_000,
  /** One send slower than this aborts the connection. */
  transportSendTimeoutMs: 10_000,
  /** A negotiated connection with no transport attached, or a long poll left idle, is reaped after this. */
  disconnectTimeoutMs: 15_000,
  /** Items buffered per upload stream before the connection stops reading. */
  streamBufferCapacity: 10,
  /** Non-streaming invocations run at once per connection. */
  maxParallelInvocationsPerClient: 1,
  /** Unacknowledged bytes kept for stateful reconnect, per connection and direction. */
  statefulReconnectBufferBytes: 100_000,
  /** The client acknowledges received messages this long after the first unacknowledged one. */
  ackIntervalMs: 1_000,
  /** The client's reconnect delays when none are given; then it stops. */
  reconnectDelaysMs: [0, 2_000, 10_000, 30_000] as readonly number[],
  /** The newest negotiate version (1: a secret connection token apart from the connection id). */
  negotiateVersion: 1,
  /** The most negotiate redirects a client follows. */
  maxNegotiateRedirects: 100,
} as const;

/** Transport names as negotiate lists them, in SignalR's order of preference. */
export const TransportName = {
  WebSockets: "WebSockets",
  ServerSentEvents: "ServerSentEvents",
  LongPolling: "LongPolling",
} as const;

/** One of the names in {@link TransportName}. */
export type TransportName = (typeof TransportName)[keyof typeof TransportName];

/** The bitmask the official client uses to choose transports. */
export const TransportFlags = {
  None: 0,
  WebSockets: 1,
  ServerSentEvents: 2,
  LongPolling: 4,
} as const;

/** How a transport carries frames: text or binary. */
export const TransferFormat = {
  Text: "Text",
  Binary: "Binary",
} as const;

/** One of the formats in {@link TransferFormat}. */
export type TransferFormat = (typeof TransferFormat)[keyof typeof TransferFormat];
