import { type Attributes, type BatchObservableCallback, createNoopMeter, type Meter, type Observable } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { observeBackplane } from "./backplane-metrics.js";

describe("observeBackplane", () => {
  it("reports connection, nodes and message counts at each collection, until stopped", () => {
    const named = new Map<Observable, string>();
    let callbacks: BatchObservableCallback[] = [];
    const base = createNoopMeter();
    const observable = (name: string) => {
      // A distinct object per instrument (the no-op meter hands out one shared instance).
      const instrument: Observable = { addCallback: () => undefined, removeCallback: () => undefined };
      named.set(instrument, name);
      return instrument;
    };
    const meter: Meter = Object.assign(Object.create(base) as Meter, {
      createObservableGauge: observable,
      createObservableCounter: observable,
      addBatchObservableCallback: (callback: BatchObservableCallback) => void callbacks.push(callback),
      removeBatchObservableCallback: (callback: BatchObservableCallback) => void (callbacks = callbacks.filter((entry) => entry !== callback)),
    });
    let connected = true;
    const stats = {
      published: 5,
      publishFailures: 1,
      received: 7,
      duplicatesDropped: 2,
      malformedDropped: 0,
      messagesLost: 3,
      lossIncidents: 1,
      relaysBroken: 4,
    };
    const stop = observeBackplane({ hubName: "chat", isConnected: () => connected, nodeCount: () => 3, relayCount: () => 2, stats }, { getMeter: () => meter });
    const collect = () => {
      const seen: Array<[string, number, Attributes]> = [];
      for (const callback of callbacks)
        void callback({ observe: (instrument, value, attributes = {}) => void seen.push([named.get(instrument)!, value, attributes]) });
      return seen;
    };
    expect(collect()).toEqual([
      ["hubwire.backplane.connected", 1, { "hubwire.hub": "chat" }],
      ["hubwire.backplane.nodes", 3, { "hubwire.hub": "chat" }],
      ["hubwire.backplane.messages", 5, { "hubwire.hub": "chat", "hubwire.direction": "published" }],
      ["hubwire.backplane.messages", 7, { "hubwire.hub": "chat", "hubwire.direction": "received" }],
      ["hubwire.backplane.publish_failures", 1, { "hubwire.hub": "chat" }],
      ["hubwire.backplane.dropped", 2, { "hubwire.hub": "chat", "hubwire.reason": "duplicate" }],
      ["hubwire.backplane.dropped", 0, { "hubwire.hub": "chat", "hubwire.reason": "malformed" }],
      ["hubwire.backplane.lost", 3, { "hubwire.hub": "chat" }],
      ["hubwire.backplane.loss_incidents", 1, { "hubwire.hub": "chat" }],
      ["hubwire.backplane.relays", 2, { "hubwire.hub": "chat" }],
      ["hubwire.backplane.relays_broken", 4, { "hubwire.hub": "chat" }],
    ]);
    connected = false;
    stats.publishFailures = 4;
    const later = collect();
    expect(later.find(([name]) => name === "hubwire.backplane.connected")?.[1]).toBe(0);
    expect(later.find(([name]) => name === "hubwire.backplane.publish_failures")?.[1]).toBe(4);
    stop();
    expect(collect()).toEqual([]);
  });
});
