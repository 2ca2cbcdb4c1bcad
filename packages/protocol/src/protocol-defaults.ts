/**
 * The defaults of ASP.NET Core SignalR, which the official clients are tuned against, one constant
 * each: read them as `ProtocolDefaults.name` (the module's namespace), so that a bundle carries only
 * the ones it reads.
 *
 * @module
 * @example
 * ```ts
 * import { ProtocolDefaults } from "@hubwire/protocol"; // or: import * as ProtocolDefaults from "@hubwire/protocol/defaults";
 *
 * const keepAliveIntervalMs = options.keepAliveIntervalMs ?? ProtocolDefaults.keepAliveIntervalMs;
 * ```
 */

/** The server pings a connection it has sent nothing to for this long. */
export const keepAliveIntervalMs = 15_000;
/** The server closes a connection it has heard nothing from (pings included) for this long. */
export const clientTimeoutMs = 30_000;
/** The client gives up on a server it has heard nothing from for this long. */
export const serverTimeoutMs = 30_000;
/** A connection with no complete handshake after this long is closed. */
export const handshakeTimeoutMs = 15_000;
/** The largest incoming hub message, in bytes (`MaximumReceiveMessageSize`). */
export const maxMessageBytes = 32 * 1024;
/** The deepest nesting of a JSON message, itself included (System.Text.Json's `MaxDepth`). */
export const maxJsonDepth = 64;
/** Buffered bytes per connection before back-pressure (`ApplicationMaxBufferSize`). */
export const maxBufferBytes = 64 * 1024;
/** A long poll with nothing to deliver is answered empty after this long. */
export const longPollTimeoutMs = 90_000;
/** The client's own HTTP timeout for negotiate, sends and polls. */
export const httpRequestTimeoutMs = 100_000;
/** How long to wait for the peer's WebSocket close frame. */
export const webSocketCloseTimeoutMs = 5_000;
/** One send slower than this aborts the connection. */
export const transportSendTimeoutMs = 10_000;
/** A negotiated connection with no transport attached, or a long poll left idle, is reaped after this. */
export const disconnectTimeoutMs = 15_000;
/** Items buffered per upload stream before the connection stops reading. */
export const streamBufferCapacity = 10;
/** Non-streaming invocations run at once per connection. */
export const maxParallelInvocationsPerClient = 1;
/** Unacknowledged bytes kept for stateful reconnect, per connection and direction. */
export const statefulReconnectBufferBytes = 100_000;
/**
 * `@hubwire/client` acknowledges received messages this long after the first unacknowledged one.
 * The official clients wait a second; a server holds what is unacknowledged past its buffer, so a
 * tenth of that lets a stateful connection carry ten times as much a second (about 1 MB with the
 * default buffer) for a few more Acks.
 */
export const ackIntervalMs = 100;
/** The client's reconnect delays when none are given; then it stops. */
export const reconnectDelaysMs = [0, 2_000, 10_000, 30_000] as readonly number[];
/** The newest negotiate version (1: a secret connection token apart from the connection id). */
export const negotiateVersion = 1;
/** The most negotiate redirects a client follows. */
export const maxNegotiateRedirects = 100;
