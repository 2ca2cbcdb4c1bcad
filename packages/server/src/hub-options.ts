/**
 * Hub options, with SignalR's defaults from `ProtocolDefaults`.
 *
 * @module
 * @example
 * ```ts
 * createHubServer({
 *   hubs: { "/chat": chat },
 *   hubOptions: { keepAliveIntervalMs: 10_000, enableDetailedErrors: process.env.NODE_ENV !== "production" },
 * });
 * ```
 */
import { ProtocolDefaults, TransportName } from "@hubwire/protocol";

/** The hub protocols a hub can speak. */
export type ProtocolName = "json" | "messagepack";

/** Options of one hub. Every duration is in milliseconds, every size in bytes. */
export interface HubOptions {
  /** Ping a connection that has been sent nothing for this long. Default 15 s. */
  readonly keepAliveIntervalMs?: number;
  /** Close a connection that has sent nothing (pings included) for this long. Default 30 s. */
  readonly clientTimeoutMs?: number;
  /** Close a connection that has not completed its handshake after this long. Default 15 s. */
  readonly handshakeTimeoutMs?: number;
  /** The largest incoming hub message; a larger one closes that connection. Default 32 KB. */
  readonly maxMessageBytes?: number;
  /** Unflushed outgoing bytes per connection past which a client that stops reading is cut. Default 8 MiB. */
  readonly maxOutboundBufferBytes?: number;
  /** Invocations run at once per connection; later ones wait. Default 1. */
  readonly maxParallelInvocationsPerClient?: number;
  /** Send exception names and messages to clients. Default false: only `HubError` texts pass. */
  readonly enableDetailedErrors?: boolean;
  /** The protocols clients may choose. Default both. */
  readonly protocols?: readonly ProtocolName[];
  /** The transports negotiate offers and the endpoint accepts. Default all it supports. */
  readonly transports?: readonly TransportName[];
  /** The oldest negotiate version accepted. Default 1: version 0 (no separate token) is refused. */
  readonly minimumNegotiateVersion?: 0 | 1;
  /** A negotiated connection that attaches no transport for this long is dropped. Default 15 s. */
  readonly disconnectTimeoutMs?: number;
  /** A long poll with nothing to deliver is answered empty after this long. Default 90 s. */
  readonly longPollTimeoutMs?: number;
  /** Items buffered per upload stream before the connection stops reading. Default 10. */
  readonly streamBufferCapacity?: number;
  /** Upload streams open at once per connection. Default 32. */
  readonly maxUploadStreamsPerConnection?: number;
  /** How long the server waits for a client result. Default: until the connection closes. */
  readonly clientResultTimeoutMs?: number;
  /**
   * Offer stateful reconnect (WebSockets, handshake version 2) to clients that ask for it: a
   * dropped WebSocket re-attached within the window resumes the same connection with nothing lost
   * or duplicated. Default false, as in SignalR.
   */
  readonly allowStatefulReconnect?: boolean;
  /** Unacknowledged bytes kept per connection for the replay; senders wait past it. Default 100,000. */
  readonly statefulReconnectBufferBytes?: number;
  /** How long a dropped stateful connection waits for its client. Default: the disconnect timeout. */
  readonly statefulReconnectWindowMs?: number;
  /** Refuse negotiate and connect (401) when authentication returns no principal. Default false. */
  readonly requireAuthentication?: boolean;
}

/** {@link HubOptions} with every default filled in. */
export type ResolvedHubOptions = Required<Omit<HubOptions, "clientResultTimeoutMs">> & {
  readonly clientResultTimeoutMs: number | undefined;
};

/** The transports this server implements, in the order negotiate lists them. */
export const supportedTransports: readonly TransportName[] = [TransportName.WebSockets, TransportName.ServerSentEvents, TransportName.LongPolling];

/** Merges options over defaults; later sources win. Throws for values that cannot work. */
export function resolveHubOptions(...sources: ReadonlyArray<HubOptions | undefined>): ResolvedHubOptions {
  const merged: HubOptions = Object.assign({}, ...sources.filter((source) => source !== undefined));
  const resolved: ResolvedHubOptions = {
    keepAliveIntervalMs: merged.keepAliveIntervalMs ?? ProtocolDefaults.keepAliveIntervalMs,
    clientTimeoutMs: merged.clientTimeoutMs ?? ProtocolDefaults.clientTimeoutMs,
    handshakeTimeoutMs: merged.handshakeTimeoutMs ?? ProtocolDefaults.handshakeTimeoutMs,
    maxMessageBytes: merged.maxMessageBytes ?? ProtocolDefaults.maxMessageBytes,
    maxParallelInvocationsPerClient: merged.maxParallelInvocationsPerClient ?? ProtocolDefaults.maxParallelInvocationsPerClient,
    maxOutboundBufferBytes: merged.maxOutboundBufferBytes ?? 8 * 1024 * 1024,
    enableDetailedErrors: merged.enableDetailedErrors ?? false,
    protocols: merged.protocols ?? ["json", "messagepack"],
    transports: (merged.transports ?? supportedTransports).filter((name) => supportedTransports.includes(name)),
    minimumNegotiateVersion: merged.minimumNegotiateVersion ?? 1,
    disconnectTimeoutMs: merged.disconnectTimeoutMs ?? ProtocolDefaults.disconnectTimeoutMs,
    longPollTimeoutMs: merged.longPollTimeoutMs ?? ProtocolDefaults.longPollTimeoutMs,
    streamBufferCapacity: merged.streamBufferCapacity ?? ProtocolDefaults.streamBufferCapacity,
    maxUploadStreamsPerConnection: merged.maxUploadStreamsPerConnection ?? 32,
    clientResultTimeoutMs: merged.clientResultTimeoutMs,
    requireAuthentication: merged.requireAuthentication ?? false,
    allowStatefulReconnect: merged.allowStatefulReconnect ?? false,
    statefulReconnectBufferBytes: merged.statefulReconnectBufferBytes ?? ProtocolDefaults.statefulReconnectBufferBytes,
    statefulReconnectWindowMs: merged.statefulReconnectWindowMs ?? merged.disconnectTimeoutMs ?? ProtocolDefaults.disconnectTimeoutMs,
  };
  for (const key of [
    "keepAliveIntervalMs",
    "clientTimeoutMs",
    "handshakeTimeoutMs",
    "maxMessageBytes",
    "disconnectTimeoutMs",
    "longPollTimeoutMs",
    "statefulReconnectBufferBytes",
    "statefulReconnectWindowMs",
    "maxOutboundBufferBytes",
  ] as const) {
    if (!(resolved[key] > 0)) throw new RangeError(`Hub option '${key}' must be a positive number, not ${String(resolved[key])}.`);
  }
  for (const key of ["maxParallelInvocationsPerClient", "streamBufferCapacity", "maxUploadStreamsPerConnection"] as const) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 1) throw new RangeError(`Hub option '${key}' must be an integer of at least 1.`);
  }
  if (resolved.protocols.length === 0) throw new RangeError("Hub option 'protocols' must name at least one protocol.");
  return resolved;
}
