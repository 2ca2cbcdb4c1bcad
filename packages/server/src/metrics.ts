/**
 * What an operator sees of a hub server, through the OpenTelemetry metrics API: a no-op until the
 * app installs an SDK (or passes a MeterProvider), so it costs nothing to apps that don't look.
 * SignalR's own names where it has them (ASP.NET Core's `Microsoft.AspNetCore.Http.Connections`
 * meter), `hubwire.*` for the rest.
 *
 * @module
 */

import { TransportName } from "@hubwire/protocol";
import { type Attributes, type Counter, type Histogram, type MeterProvider, metrics, type UpDownCounter } from "@opentelemetry/api";
import type { ConnectionTransport } from "./hub-connection-context.js";

/** SignalR's `signalr.transport` values. */
const transportAttribute: Readonly<Record<TransportName, string>> = {
  [TransportName.WebSockets]: "web_sockets",
  [TransportName.ServerSentEvents]: "server_sent_events",
  [TransportName.LongPolling]: "long_polling",
};

/** Why a connection ended, as SignalR's `signalr.connection.status` names it. */
export type ConnectionEndStatus = "normal_closure" | "timeout" | "app_shutdown";

/** Attribute objects made once: instruments are called per message. */
const transportAttributes: Readonly<Record<TransportName, Attributes>> = {
  [TransportName.WebSockets]: { "signalr.transport": transportAttribute[TransportName.WebSockets] },
  [TransportName.ServerSentEvents]: { "signalr.transport": transportAttribute[TransportName.ServerSentEvents] },
  [TransportName.LongPolling]: { "signalr.transport": transportAttribute[TransportName.LongPolling] },
};
/** A gateway's connections (`"socket.io"`) carry the gateway's name as their transport. */
const gatewayAttributes = new Map<string, Attributes>();
function attributesOf(transport: ConnectionTransport): Attributes {
  const known = transportAttributes[transport as TransportName];
  if (known !== undefined) return known;
  let attributes = gatewayAttributes.get(transport);
  if (attributes === undefined) gatewayAttributes.set(transport, (attributes = { "signalr.transport": transport }));
  return attributes;
}
const received = Object.freeze({ "hubwire.direction": "received" });
const sent = Object.freeze({ "hubwire.direction": "sent" });

/** One hub's invocation counter (from {@link HubMetrics.invocationsOf}). */
export interface InvocationCounts {
  ok(): void;
  error(): void;
}

/**
 * The server's instruments. Created by the hub server from `meterProvider` (default: the global one).
 *
 * @example
 * ```ts
 * import { MeterProvider } from "@opentelemetry/sdk-metrics";
 * const hubs = createHubServer({ hubs: { "/chat": chat }, meterProvider: new MeterProvider({ readers: [reader] }) });
 * ```
 */
export class HubMetrics {
  readonly #connectionDuration: Histogram;
  readonly #activeConnections: UpDownCounter;
  readonly #messages: Counter;
  readonly #invocations: Counter;
  readonly #errors: Counter;
  readonly #slowConsumerCuts: Counter;
  readonly #refusedConnections: Counter;

  constructor(meterProvider: MeterProvider = metrics.getMeterProvider()) {
    const meter = meterProvider.getMeter("@hubwire/server");
    this.#connectionDuration = meter.createHistogram("signalr.server.connection.duration", {
      unit: "s",
      description: "How long connections lasted, from the handshake to their end.",
    });
    this.#activeConnections = meter.createUpDownCounter("signalr.server.active_connections", {
      unit: "{connection}",
      description: "Connections open now (past their handshake).",
    });
    this.#messages = meter.createCounter("hubwire.server.messages", { unit: "{message}", description: "Hub messages received and sent." });
    this.#invocations = meter.createCounter("hubwire.server.invocations", { unit: "{invocation}", description: "Hub method calls, by outcome." });
    this.#errors = meter.createCounter("hubwire.server.errors", {
      unit: "{error}",
      description: "Bad input and failures, by kind: protocol (malformed messages), handshake, invocation (a method threw).",
    });
    this.#slowConsumerCuts = meter.createCounter("hubwire.server.slow_consumer_cuts", {
      unit: "{connection}",
      description: "Connections cut because they did not read what they were sent (the outbound byte cap).",
    });
    this.#refusedConnections = meter.createCounter("hubwire.server.refused_connections", {
      unit: "{connection}",
      description: "Connections refused at a connection limit (429 per address, 503 in all) or during shutdown.",
    });
  }

  connectionOpened(transport: ConnectionTransport): void {
    this.#activeConnections.add(1, attributesOf(transport));
  }

  connectionEnded(transport: ConnectionTransport, durationMs: number, status: ConnectionEndStatus): void {
    this.#activeConnections.add(-1, attributesOf(transport));
    this.#connectionDuration.record(durationMs / 1000, { ...attributesOf(transport), "signalr.connection.status": status });
  }

  messageReceived(): void {
    this.#messages.add(1, received);
  }

  messageSent(): void {
    this.#messages.add(1, sent);
  }

  /** One hub's count of calls by outcome, its attributes made once: counting a call looks nothing up. */
  invocationsOf(hub: string): InvocationCounts {
    const counter = this.#invocations;
    const ok = { "hubwire.hub": hub, "hubwire.outcome": "ok" };
    const error = { "hubwire.hub": hub, "hubwire.outcome": "error" };
    return { ok: () => counter.add(1, ok), error: () => counter.add(1, error) };
  }

  error(kind: "protocol" | "handshake" | "invocation"): void {
    this.#errors.add(1, { "error.type": kind });
  }

  slowConsumerCut(): void {
    this.#slowConsumerCuts.add(1);
  }

  connectionRefused(reason: "address_limit" | "server_limit" | "shutting_down"): void {
    this.#refusedConnections.add(1, { "hubwire.reason": reason });
  }
}
