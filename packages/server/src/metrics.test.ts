import { type Attributes, createNoopMeter, type Meter, type MeterProvider } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./test-helpers/official-client.js";
import { RawHubSocket } from "./test-helpers/raw-client.js";
import { testHub } from "./test-helpers/test-hub.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

interface Recorded {
  readonly instrument: string;
  readonly value: number;
  readonly attributes: Attributes;
}

/** A MeterProvider that records every measurement, standing in for an app's OpenTelemetry SDK. */
function recordingProvider(): { provider: MeterProvider; recorded: Recorded[]; names: string[] } {
  const recorded: Recorded[] = [];
  const names: string[] = [];
  const record =
    (instrument: string) =>
    (value: number, attributes: Attributes = {}) =>
      void recorded.push({ instrument, value, attributes });
  const base = createNoopMeter();
  const meter: Meter = Object.assign(Object.create(base) as Meter, {
    createCounter: (name: string) => (names.push(name), { add: record(name) }),
    createUpDownCounter: (name: string) => (names.push(name), { add: record(name) }),
    createHistogram: (name: string) => (names.push(name), { record: record(name) }),
  });
  return { provider: { getMeter: () => meter }, recorded, names };
}

const sum = (recorded: Recorded[], instrument: string, match: Attributes = {}) =>
  recorded
    .filter((entry) => entry.instrument === instrument && Object.entries(match).every(([key, value]) => entry.attributes[key] === value))
    .reduce((total, entry) => total + entry.value, 0);

describe("metrics through the OpenTelemetry API", () => {
  const { provider, recorded, names } = recordingProvider();
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ hubs: { "/hub": testHub }, meterProvider: provider, limits: { maxConnectionsPerAddress: 3 } });
  });
  afterAll(() => server.close());

  it("uses SignalR's names for connections and hubwire.* for the rest", () => {
    expect(names).toEqual(
      expect.arrayContaining([
        "signalr.server.connection.duration",
        "signalr.server.active_connections",
        "hubwire.server.messages",
        "hubwire.server.invocations",
        "hubwire.server.errors",
        "hubwire.server.slow_consumer_cuts",
        "hubwire.server.refused_connections",
      ]),
    );
  });

  it("counts connections, messages, invocations and errors as they happen", async () => {
    const socket = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub`);
    socket.send('{"protocol":"json","version":1}\u001e');
    await eventually(() => sum(recorded, "signalr.server.active_connections", { "signalr.transport": "web_sockets" }) === 1, 5_000, "an active connection");
    socket.send(
      '{"type":1,"invocationId":"1","target":"echo","arguments":[1]}\u001e{"type":1,"invocationId":"2","target":"throwPlain","arguments":["no"]}\u001e',
    );
    await eventually(() => socket.records.length === 3, 5_000, "two completions");
    expect(sum(recorded, "hubwire.server.invocations", { "hubwire.outcome": "ok" })).toBe(1);
    expect(sum(recorded, "hubwire.server.invocations", { "hubwire.outcome": "error" })).toBe(1);
    expect(sum(recorded, "hubwire.server.errors", { "error.type": "invocation" })).toBe(1);
    expect(sum(recorded, "hubwire.server.messages", { "hubwire.direction": "received" })).toBe(2);
    // The handshake answer is not a hub message; the two completions are.
    expect(sum(recorded, "hubwire.server.messages", { "hubwire.direction": "sent" })).toBe(2);
    socket.send("{garbage\u001e");
    await eventually(() => sum(recorded, "signalr.server.active_connections") === 0, 5_000, "the connection to end");
    expect(sum(recorded, "hubwire.server.errors", { "error.type": "protocol" })).toBe(1);
    const durations = recorded.filter((entry) => entry.instrument === "signalr.server.connection.duration");
    expect(durations).toHaveLength(1);
    expect(durations[0]!.attributes).toEqual({ "signalr.transport": "web_sockets", "signalr.connection.status": "normal_closure" });
    expect(durations[0]!.value).toBeGreaterThanOrEqual(0);
  });

  it("counts connections refused at a limit", async () => {
    const negotiate = () => fetch(`http://127.0.0.1:${server.port}/hub/negotiate?negotiateVersion=1`, { method: "POST" });
    const statuses = [];
    for (let index = 0; index < 4; index++) statuses.push((await negotiate()).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(sum(recorded, "hubwire.server.refused_connections", { "hubwire.reason": "address_limit" })).toBe(1);
  });
});
