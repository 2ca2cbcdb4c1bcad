/**
 * The backplane's health through the OpenTelemetry metrics API (a no-op until the app installs an
 * SDK): whether Redis is reachable, how many nodes this one hears, and its message counts (the
 * `BackplaneStats` that the publisher and the router count in).
 *
 * @module
 */
import { type BatchObservableCallback, type Meter, type MeterProvider, metrics, type Observable } from "@opentelemetry/api";

/** Counters for metrics and tests. */
export interface BackplaneStats {
  published: number;
  publishFailures: number;
  received: number;
  duplicatesDropped: number;
  malformedDropped: number;
  /** Durable delivery: messages stored for this node that it can no longer read (exact counts, as found). */
  messagesLost: number;
  /** Durable delivery: losses that closed this node's connections (a reset, a trim, a gap no earlier incident explains). */
  lossIncidents: number;
  /** Relays this node closed because they broke (frames lost, the other node gone, Redis lost or refusing a frame); their clients re-attach. */
  relaysBroken: number;
}

/**
 * Counters all at zero, for a new manager.
 *
 * @example
 * ```ts
 * const stats = emptyBackplaneStats();
 * stats.published++;
 * ```
 */
export function emptyBackplaneStats(): BackplaneStats {
  return { published: 0, publishFailures: 0, received: 0, duplicatesDropped: 0, malformedDropped: 0, messagesLost: 0, lossIncidents: 0, relaysBroken: 0 };
}

/** What the instruments read, at each collection. */
export interface BackplaneReadings {
  readonly hubName: string;
  isConnected(): boolean;
  /** Nodes alive, this one included. */
  nodeCount(): number;
  /** Transports relayed to or from this node now (`connection-relays.ts`). */
  relayCount(): number;
  readonly stats: Readonly<BackplaneStats>;
}

/**
 * Registers the backplane's observable instruments; `stop()` unregisters them (on close).
 *
 * @example
 * ```ts
 * const stop = observeBackplane(manager, meterProvider);
 * // ...
 * stop();
 * ```
 */
export function observeBackplane(readings: BackplaneReadings, meterProvider: MeterProvider = metrics.getMeterProvider()): () => void {
  const meter: Meter = meterProvider.getMeter("@hubwire/redis");
  const hub = { "hubwire.hub": readings.hubName };
  const connected = meter.createObservableGauge("hubwire.backplane.connected", { description: "1 while both Redis connections are ready, else 0." });
  const nodes = meter.createObservableGauge("hubwire.backplane.nodes", {
    unit: "{node}",
    description: "Nodes this one hears heartbeats from, itself included.",
  });
  const messages = meter.createObservableCounter("hubwire.backplane.messages", {
    unit: "{message}",
    description: "Messages published to and received from Redis.",
  });
  const failures = meter.createObservableCounter("hubwire.backplane.publish_failures", {
    unit: "{message}",
    description: "Publishes that failed (Redis down or late): the sender got a BackplaneError.",
  });
  const dropped = meter.createObservableCounter("hubwire.backplane.dropped", {
    unit: "{message}",
    description: "Received messages dropped: duplicates (by id) and malformed envelopes.",
  });
  const lost = meter.createObservableCounter("hubwire.backplane.lost", {
    unit: "{message}",
    description: "Durable delivery: messages stored for this node that it could no longer read (trimmed, or gone with Redis).",
  });
  const incidents = meter.createObservableCounter("hubwire.backplane.loss_incidents", {
    unit: "{incident}",
    description: "Durable delivery: losses that closed this node's connections with allowReconnect.",
  });
  const relays = meter.createObservableGauge("hubwire.backplane.relays", {
    unit: "{relay}",
    description: "Transports relayed to or from this node: stateful re-attaches that reached another node than their connection's.",
  });
  const relaysBroken = meter.createObservableCounter("hubwire.backplane.relays_broken", {
    unit: "{relay}",
    description: "Relays this node closed because they broke (frames lost, the other node gone, Redis lost); their clients re-attach.",
  });
  const observables: Observable[] = [connected, nodes, messages, failures, dropped, lost, incidents, relays, relaysBroken];
  const callback: BatchObservableCallback = (result) => {
    const { stats } = readings;
    result.observe(connected, readings.isConnected() ? 1 : 0, hub);
    result.observe(nodes, readings.nodeCount(), hub);
    result.observe(messages, stats.published, { ...hub, "hubwire.direction": "published" });
    result.observe(messages, stats.received, { ...hub, "hubwire.direction": "received" });
    result.observe(failures, stats.publishFailures, hub);
    result.observe(dropped, stats.duplicatesDropped, { ...hub, "hubwire.reason": "duplicate" });
    result.observe(dropped, stats.malformedDropped, { ...hub, "hubwire.reason": "malformed" });
    result.observe(lost, stats.messagesLost, hub);
    result.observe(incidents, stats.lossIncidents, hub);
    result.observe(relays, readings.relayCount(), hub);
    result.observe(relaysBroken, stats.relaysBroken, hub);
  };
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}
