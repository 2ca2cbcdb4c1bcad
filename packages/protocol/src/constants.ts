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

/** The defaults of ASP.NET Core SignalR, which the official clients are tuned against (see protocol-defaults.ts). */
export * as ProtocolDefaults from "./protocol-defaults.js";

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
