// The connection state machine alone: no sockets, no timers of its own. A recording transport
// stands in for the network and the clock is a number the test moves, as the endpoint's timer
// would call tick().
import { type HubMessage, type HubProtocol, JsonHubProtocol, MessageType } from "@hubwire/protocol";
import { describe, expect, it } from "vitest";
import { type ConnectionEvents, type ConnectionSettings, HubConnection } from "./connection.js";
import type { ConnectionKeeper, ConnectionKeeping } from "./connection-keeping.js";
import { silentLogger } from "./logger.js";
import { HubMetrics } from "./metrics.js";
import { ReplayBudget } from "./replay-buffer.js";
import { RecordingTransport } from "./test-helpers/recording-transport.js";

const RS = "\u001e";
const json = new JsonHubProtocol();

function setup(overrides: Partial<ConnectionSettings> = {}) {
  const clock = { now: 1_000 };
  const events = { connected: 0, messages: [] as HubMessage[], closed: [] as Array<Error | undefined> };
  const settings: ConnectionSettings = {
    protocols: new Map<string, HubProtocol>([["json", json]]),
    keepAliveIntervalMs: 15_000,
    clientTimeoutMs: 30_000,
    handshakeTimeoutMs: 15_000,
    maxOutboundBufferBytes: 1 << 20,
    disconnectTimeoutMs: 5_000,
    maxMessageBytes: 32 * 1024,
    enableDetailedErrors: false,
    statefulReconnectBufferBytes: 100_000,
    statefulReconnectWindowMs: 10_000,
    replayBudget: new ReplayBudget(1 << 20),
    logger: silentLogger,
    metrics: new HubMetrics(),
    now: () => clock.now,
    ...overrides,
  };
  const listener: ConnectionEvents = {
    connected: () => void events.connected++,
    resumed: () => void events.connected++,
    message: (_connection, message) => void events.messages.push(message),
    refused: () => {},
    callsAnswered: () => Promise.resolve(),
    closed: (_connection, error) => void events.closed.push(error),
  };
  const connection = new HubConnection({ connectionId: "c1", connectionToken: "t1" }, settings, listener);
  const request = { url: "/hub", query: new URLSearchParams(), headers: {}, remoteAddress: "127.0.0.1" };
  const open = (transport = new RecordingTransport()) => {
    connection.attach(transport, request, undefined);
    return transport;
  };
  const text = (value: string) => new TextEncoder().encode(value);
  /** Runs the batch's flush (a process.nextTick) so that sent records reach the transport. */
  const flushed = () => new Promise((resolve) => process.nextTick(resolve));
  return { clock, events, connection, open, text, flushed };
}

describe("a connection's states, on an injected clock", () => {
  it("goes from negotiated to handshaking to connected, and hands messages on", async () => {
    const { connection, open, text, events, flushed } = setup();
    expect(connection.state).toBe("negotiated");
    const transport = open();
    expect(connection.state).toBe("handshaking");
    connection.receive(transport, text(`{"protocol":"json","version":1}${RS}{"type":6}${RS}`));
    expect(connection.state).toBe("connected");
    expect(events.connected).toBe(1);
    expect(events.messages).toEqual([{ type: MessageType.Ping }]);
    await flushed();
    expect(transport.frames.join("")).toBe(`{}${RS}`);
  });

  it("times out a handshake that never comes, at the handshake timeout and not before", () => {
    const { connection, open, clock, events } = setup();
    const transport = open();
    clock.now += 14_999;
    connection.tick(clock.now);
    expect(connection.state).toBe("handshaking");
    clock.now += 1;
    connection.tick(clock.now);
    expect(connection.state).toBe("closed");
    expect(connection.timedOut).toBe(true);
    expect(transport.closedWith).toBe(1000);
    expect(String(events.closed[0])).toContain("did not complete the handshake");
  });

  it("pings after the keep-alive interval of silence from the server, and not before", async () => {
    const { connection, open, text, clock, flushed } = setup();
    const transport = open();
    connection.receive(transport, text(`{"protocol":"json","version":1}${RS}`));
    clock.now += 14_999;
    connection.tick(clock.now);
    await flushed();
    expect(transport.messages).toEqual([]);
    clock.now += 1;
    connection.tick(clock.now);
    await flushed();
    expect(transport.messages).toEqual([{ type: MessageType.Ping }]);
  });

  it("closes with SignalR's Close after the client timeout of silence from the client; anything heard resets it", async () => {
    const { connection, open, text, clock, events, flushed } = setup({ keepAliveIntervalMs: 1_000_000 });
    const transport = open();
    connection.receive(transport, text(`{"protocol":"json","version":1}${RS}`));
    clock.now += 20_000;
    connection.receive(transport, text(`{"type":6}${RS}`));
    clock.now += 29_999;
    connection.tick(clock.now);
    expect(connection.state).toBe("connected");
    clock.now += 1;
    connection.tick(clock.now);
    await flushed();
    expect(connection.state).toBe("closed");
    expect(transport.messages.at(-1)).toEqual({
      type: MessageType.Close,
      error: "Connection closed: the server heard nothing from the client within its timeout.",
    });
    expect(String(events.closed[0])).toContain("timed out");
  });

  it("ends a long-polling connection whose client stops polling, after the disconnect timeout", () => {
    const { connection, open, text, clock } = setup();
    const transport = open(new RecordingTransport({ inherentKeepAlive: true }));
    connection.receive(transport, text(`{"protocol":"json","version":1}${RS}`));
    transport.idleSince = clock.now;
    clock.now += 4_999;
    connection.tick(clock.now);
    expect(connection.state).toBe("connected");
    clock.now += 1;
    connection.tick(clock.now);
    expect(connection.state).toBe("closed");
    expect(connection.timedOut).toBe(true);
  });

  it("closes when the principal's authentication expires, letting the client reconnect", async () => {
    const { connection, text, clock, flushed } = setup({ clientTimeoutMs: 1_000_000, keepAliveIntervalMs: 1_000_000 });
    const transport = new RecordingTransport();
    connection.attach(
      transport,
      { url: "/hub", query: new URLSearchParams(), headers: {}, remoteAddress: undefined },
      { userId: "ann", expiresAtMs: Date.now() + 60_000 },
    );
    connection.receive(transport, text(`{"protocol":"json","version":1}${RS}`));
    clock.now += 59_000;
    connection.tick(clock.now);
    expect(connection.state).toBe("connected");
    clock.now += 2_000;
    connection.tick(clock.now);
    await flushed();
    expect(connection.state).toBe("closed");
    expect(transport.messages.at(-1)).toEqual({ type: MessageType.Close, error: "Connection closed: its authentication expired.", allowReconnect: true });
  });

  it("waits the stateful reconnect window for a dropped stateful connection, then ends it", () => {
    const { connection, open, text, clock, events } = setup();
    connection.statefulReconnectNegotiated = true;
    const transport = open();
    connection.receive(transport, text(`{"protocol":"json","version":2}${RS}`));
    connection.transportClosed(transport, new Error("dropped"));
    expect(connection.state).toBe("reconnecting");
    expect(connection.canReattach).toBe(true);
    clock.now += 9_999;
    connection.tick(clock.now);
    expect(connection.state).toBe("reconnecting");
    clock.now += 1;
    connection.tick(clock.now);
    expect(connection.state).toBe("closed");
    expect(String(events.closed[0])).toContain("did not re-attach");
  });

  it("ignores what an old transport reports once a new one took its place", () => {
    const { connection, open, text, events } = setup();
    connection.statefulReconnectNegotiated = true;
    const first = open();
    connection.receive(first, text(`{"protocol":"json","version":2}${RS}`));
    const second = new RecordingTransport();
    connection.reattach(second, undefined);
    connection.receive(first, text(`{"type":6}${RS}`));
    connection.transportClosed(first);
    expect(events.messages).toEqual([]);
    expect(connection.state).toBe("connected");
    expect(first.closedWith).toBe(1000);
  });

  it("fails every awaited client result when it closes, once", async () => {
    const { connection, open, text } = setup();
    const transport = open();
    connection.receive(transport, text(`{"protocol":"json","version":1}${RS}`));
    const answer = connection.invokeClient("confirm", ["Sure?"], {});
    connection.abort("gone");
    await expect(answer).rejects.toMatchObject({ code: "HUBWIRE_CLIENT_RESULT_FAILED", message: "Connection 'c1' closed before the client answered." });
  });
});

/** A store that answers when the test says: what the connection asked of it, in order. */
function manualKeeping() {
  const calls: string[] = [];
  const pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  const wait = (call: string) => {
    calls.push(call);
    return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
  };
  const keeper: ConnectionKeeper = {
    sent: (sequenceId, _bytes, answers) => wait(`sent ${sequenceId}${answers === undefined ? "" : ` answers ${answers}`}`),
    received: (sequenceId, opened, closed) => wait(`received ${sequenceId} opened [${opened}] closed [${closed}]`),
    acknowledged: (sequenceId) => void calls.push(`acknowledged ${sequenceId}`),
    ended: () => void calls.push("ended"),
  };
  const keeping: ConnectionKeeping = { keep: () => keeper, takeOver: () => Promise.resolve(undefined) };
  /** Answers the oldest store not yet answered. */
  const store = async (error?: Error) => {
    const next = pending.shift()!;
    if (error === undefined) next.resolve();
    else next.reject(error);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { keeping, keeper, calls, store };
}

describe("a kept connection (connection-keeping.ts)", () => {
  function keptSetup() {
    const manual = manualKeeping();
    const parts = setup({ keeping: manual.keeping });
    parts.connection.statefulReconnectNegotiated = true;
    const transport = parts.open();
    parts.connection.receive(transport, parts.text(`{"protocol":"json","version":2}${RS}`));
    return { ...parts, ...manual, transport };
  }

  it("writes a message only once it is stored, and what follows it waits behind it", async () => {
    const { connection, transport, calls, store, flushed } = keptSetup();
    await flushed();
    transport.messages.length = 0;
    void connection.send({ type: MessageType.Invocation, target: "tick", arguments: [1] });
    void connection.send({ type: MessageType.Ping });
    await flushed();
    expect(calls).toEqual(["sent 1"]);
    expect(transport.messages).toEqual([]);
    await store();
    await flushed();
    expect(transport.messages.map((message) => message.type)).toEqual([MessageType.Invocation, MessageType.Ping]);
  });

  it("dispatches the client's messages only once its progress and the calls they open are stored", async () => {
    const { connection, transport, events, calls, store, text } = keptSetup();
    connection.receive(transport, text(`{"type":1,"invocationId":"7","target":"add","arguments":[1,2]}${RS}{"type":1,"target":"note","arguments":[]}${RS}`));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(["received 2 opened [7] closed []"]);
    expect(events.messages).toEqual([]);
    await store();
    expect(events.messages.map((message) => message.type)).toEqual([MessageType.Invocation, MessageType.Invocation]);
    connection.sendCompletion({ type: MessageType.Completion, invocationId: "7", result: 3 });
    expect(calls.at(-1)).toBe("sent 1 answers 7");
  });

  it("ends with a Close that lets its client reconnect when a store fails, and stops keeping", async () => {
    const { connection, transport, events, calls, store, flushed } = keptSetup();
    void connection.send({ type: MessageType.Invocation, target: "tick", arguments: [1] });
    await store(new Error("Redis is gone"));
    await flushed();
    expect(connection.state).toBe("closed");
    expect(transport.messages.at(-1)).toEqual({
      type: MessageType.Close,
      error: "Connection closed: the server could not keep its state for a reconnect.",
      allowReconnect: true,
    });
    expect(calls.at(-1)).toBe("ended");
    expect(String(events.closed[0])).toContain("could not keep its state");
  });

  it("acknowledges the client's messages only once their receipt is stored", async () => {
    const { connection, transport, clock, store, text, flushed } = keptSetup();
    await flushed();
    transport.messages.length = 0;
    connection.receive(transport, text(`{"type":1,"target":"note","arguments":[]}${RS}`));
    await new Promise((resolve) => setImmediate(resolve));
    clock.now += 1_000;
    connection.tick(clock.now);
    await flushed();
    expect(transport.messages).toEqual([]);
    await store();
    connection.tick(clock.now);
    await flushed();
    expect(transport.messages).toEqual([{ type: MessageType.Ack, sequenceId: 1 }]);
  });

  it("taken over, replays what the node that died stored at once, then fails the calls it left open", async () => {
    const manual = manualKeeping();
    const { connection, events, flushed } = setup({ keeping: manual.keeping });
    const stored = new TextEncoder().encode(`{"type":1,"target":"tick","arguments":[1]}${RS}`);
    const restored = connection.restore({
      connection: {
        connectionId: "c1",
        userId: "ann",
        protocol: "json",
        transport: "WebSockets",
        reconnectWindowMs: 10_000,
        receivedThrough: 4,
        messages: [{ sequenceId: 7, bytes: stored }],
        lastSequenceId: 7,
        openInvocations: ["call-3"],
        groups: [],
      },
      keeper: manual.keeper,
    });
    expect(restored).toBe(true);
    expect(connection.state).toBe("reconnecting");
    expect(connection.userId).toBe("ann");
    expect(events.connected).toBe(1);
    expect(manual.calls).toEqual(["sent 8 answers call-3"]);
    const transport = new RecordingTransport();
    connection.reattach(transport, { userId: "ann" });
    await flushed();
    expect(transport.messages).toEqual([
      { type: MessageType.Sequence, sequenceId: 7 },
      { type: MessageType.Invocation, target: "tick", arguments: [1] },
    ]);
    await manual.store();
    await flushed();
    expect(transport.messages.at(-1)).toMatchObject({
      type: MessageType.Completion,
      invocationId: "call-3",
      error: expect.stringContaining("may or may not have run"),
    });
  });
});
