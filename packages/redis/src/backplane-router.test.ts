// The backplane's inbound side alone: envelopes as Redis would hand them over, a request table on
// a clock the test moves, in-memory connections. No Redis, no sockets, no real timers.
import { JsonHubProtocol, MessageType } from "@hubwire/protocol";
import { ClientResultError, type Logger, MemoryLifetimeManager, SerializedMessage, silentLogger } from "@hubwire/server";
import { RecordingConnection } from "@hubwire/server/testing";
import { describe, expect, it } from "vitest";
import { emptyBackplaneStats } from "./backplane-metrics.js";
import { BackplaneRouter } from "./backplane-router.js";
import { type Envelope, EnvelopeKind, encodeEnvelope, type TargetKind } from "./envelope.js";
import { deliverLocally } from "./local-delivery.js";
import { PendingRequests } from "./pending-requests.js";
import { ManualClock } from "./test-helpers/manual-clock.js";

const json = new JsonHubProtocol();

function setup(options: { seenLimit?: number; logger?: Logger } = {}) {
  const clock = new ManualClock();
  const requests = new PendingRequests(clock);
  const stats = emptyBackplaneStats();
  const routed: Array<[string, Envelope | string]> = [];
  const router = new BackplaneRouter({
    serverId: "me",
    requests,
    stats,
    logger: options.logger ?? silentLogger,
    onHeartbeat: (serverId) => void routed.push(["heartbeat", serverId]),
    onPresenceDelta: (envelope) => void routed.push(["presence", envelope.serverId]),
    onPresenceSyncRequest: (envelope) => void routed.push(["presence sync", envelope.serverId]),
    onPresenceSnapshot: (envelope) => void routed.push(["presence snapshot", envelope.serverId]),
    onLocateRequest: (envelope) => void routed.push(["locate", envelope.requestId]),
    onLocateAnswer: (envelope) => void routed.push(["located", envelope.requestId]),
    onForwardRequest: (envelope) => void routed.push(["forward", envelope.requestId]),
    onForwardResponse: (envelope) => void routed.push(["forwarded", envelope.requestId]),
    onForwardCancel: (envelope) => void routed.push(["forward cancel", envelope.requestId]),
    onRelay: (envelope) => void routed.push(["relay", envelope.relayId]),
    onInvocation: (envelope) => void routed.push(["invocation", envelope]),
    onGroupCommand: (envelope) => void routed.push(["group command", envelope]),
    onResultRequest: (envelope) => void routed.push(["result request", envelope]),
    onInspectRequest: (envelope) => void routed.push(["inspect request", envelope]),
    onInspectResponse: (envelope) => void routed.push(["inspect response", envelope]),
    onDisconnectCommand: (envelope) => void routed.push(["disconnect", envelope]),
    ...(options.seenLimit === undefined ? {} : { seenLimit: options.seenLimit }),
  });
  const route = (envelope: Envelope) => router.route(encodeEnvelope(envelope));
  return { clock, requests, stats, routed, router, route };
}

function invocation(messageId: string, text: string, target: TargetKind = "all", names: string[] = [], serverId = "other"): Envelope {
  const serialized = new SerializedMessage({ type: MessageType.Invocation, target: "say", arguments: [text] });
  return { kind: EnvelopeKind.Invocation, messageId, serverId, target, names, excluded: [], encoded: new Map([["json", serialized.bytesFor(json)]]) };
}

const ids = (routed: Array<[string, Envelope | string]>) =>
  routed.map(
    ([kind, envelope]) =>
      `${kind} ${typeof envelope === "string" ? envelope : "messageId" in envelope ? envelope.messageId : "requestId" in envelope ? envelope.requestId : ""}`,
  );

describe("BackplaneRouter", () => {
  it("takes only invocations from a durable stream, once per id, and drops anything else as malformed", () => {
    const { router, routed, stats } = setup();
    const from = (envelope: Envelope) => router.routeInvocation(encodeEnvelope(envelope));
    from(invocation("other:1", "hello"));
    from(invocation("other:1", "hello"));
    from(invocation("me:1", "mine", "all", [], "me"));
    from({ kind: EnvelopeKind.ForwardCancel, requestId: "r1", serverId: "other" });
    router.routeInvocation(Buffer.from("junk"));
    expect(ids(routed)).toEqual(["invocation other:1"]);
    expect(stats).toMatchObject({ received: 3, duplicatesDropped: 1, malformedDropped: 2 });
  });

  it("hands each kind of envelope from another node to what handles it, and counts it received", () => {
    const { route, routed, stats } = setup();
    route({ kind: EnvelopeKind.Heartbeat, serverId: "b", presenceSeq: 0 });
    route(invocation("m1", "hello"));
    route({ kind: EnvelopeKind.GroupCommand, requestId: "g1", serverId: "b", action: "add", connectionId: "c1", group: "red" });
    route({ kind: EnvelopeKind.ResultRequest, requestId: "q1", serverId: "b", connectionId: "c1", method: "ask", args: [], timeoutMs: null });
    route({ kind: EnvelopeKind.InspectRequest, requestId: "i1", serverId: "b", request: { connections: { limit: 5 } } });
    const answer = {
      summary: {
        nodeId: "b",
        connections: 0,
        transports: {},
        groups: 0,
        messagesIn: 0,
        messagesOut: 0,
        messagesInPerSecond: 0,
        messagesOutPerSecond: 0,
        messagesPerSecondByTransport: {},
      },
      connections: [],
      groups: [],
    };
    route({ kind: EnvelopeKind.InspectResponse, requestId: "i2", answer });
    route({ kind: EnvelopeKind.DisconnectCommand, requestId: "d1", serverId: "b", connectionId: "c1" });
    route({ kind: EnvelopeKind.PresenceDelta, serverId: "b", seq: 1, ops: [[0, "c1", "ada"]] });
    route({ kind: EnvelopeKind.PresenceSyncRequest, serverId: "b" });
    route({ kind: EnvelopeKind.PresenceSnapshot, serverId: "b", seq: 1, records: [] });
    expect(ids(routed)).toEqual([
      "heartbeat b",
      "invocation m1",
      "group command g1",
      "result request q1",
      "inspect request i1",
      "inspect response i2",
      "disconnect d1",
      "presence b",
      "presence sync b",
      "presence snapshot b",
    ]);
    expect(stats.received).toBe(10);
    // The request and the answer arrive whole.
    expect(routed[4]![1]).toMatchObject({ request: { connections: { limit: 5 } } });
    expect(routed[5]![1]).toMatchObject({ answer });
  });

  it("ignores the heartbeats, invocations, group commands and inspections this node sent itself", () => {
    const { route, routed } = setup();
    route({ kind: EnvelopeKind.Heartbeat, serverId: "me", presenceSeq: 0 });
    route(invocation("m1", "mine", "all", [], "me"));
    route({ kind: EnvelopeKind.GroupCommand, requestId: "g1", serverId: "me", action: "add", connectionId: "c1", group: "red" });
    route({ kind: EnvelopeKind.InspectRequest, requestId: "i1", serverId: "me", request: {} });
    route({ kind: EnvelopeKind.PresenceDelta, serverId: "me", seq: 1, ops: [[1, "c1"]] });
    route({ kind: EnvelopeKind.PresenceSyncRequest, serverId: "me" });
    route({ kind: EnvelopeKind.PresenceSnapshot, serverId: "me", seq: 1, records: [] });
    expect(routed).toEqual([]);
  });

  it("delivers a message id once, however often and on however many channels it arrives", () => {
    const { route, routed, stats } = setup();
    route(invocation("m1", "to red", "groups", ["red"]));
    route(invocation("m1", "to red", "groups", ["red"]));
    route(invocation("m2", "to ben", "users", ["ben"]));
    route(invocation("m1", "to red", "groups", ["red"]));
    expect(ids(routed)).toEqual(["invocation m1", "invocation m2"]);
    expect(stats).toMatchObject({ received: 4, duplicatesDropped: 2 });
  });

  it("remembers a bounded number of ids, forgetting the oldest first", () => {
    const { route, routed } = setup({ seenLimit: 2 });
    for (const id of ["m1", "m2", "m3"]) route(invocation(id, id));
    route(invocation("m3", "newest again"));
    route(invocation("m2", "kept again"));
    route(invocation("m1", "oldest again"));
    expect(ids(routed)).toEqual(["invocation m1", "invocation m2", "invocation m3", "invocation m1"]);
  });

  it("drops, counts and logs bytes that are not an envelope, and goes on", () => {
    const logged: string[] = [];
    const { router, route, routed, stats } = setup({ logger: { log: (_level, message) => void logged.push(message) } });
    router.route(new Uint8Array([0xc1, 0x00]));
    route(invocation("m1", "after"));
    expect(stats).toMatchObject({ malformedDropped: 1, received: 1 });
    expect(logged).toEqual(["Dropped a backplane message that is not an envelope."]);
    expect(ids(routed)).toEqual(["invocation m1"]);
  });

  it("settles the awaited request an Ack or a ResultResponse answers", async () => {
    const { requests, route } = setup();
    const acknowledged = requests.expect("r1", { timeoutMs: 1_000, onTimeout: () => new Error("late") });
    const answered = requests.expect("r2", { timeoutMs: 1_000, onTimeout: () => new Error("late") });
    const refused = requests.expect("r3", { timeoutMs: 1_000, onTimeout: () => new Error("late") });
    route({ kind: EnvelopeKind.Ack, requestId: "r1" });
    route({ kind: EnvelopeKind.ResultResponse, requestId: "r2", error: null, result: { answer: 42 } });
    route({ kind: EnvelopeKind.ResultResponse, requestId: "r3", error: "no", result: null });
    await expect(acknowledged).resolves.toBeUndefined();
    await expect(answered).resolves.toEqual({ answer: 42 });
    const error = await refused.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClientResultError);
    expect(error).toMatchObject({ message: "no" });
    expect(requests.size).toBe(0);
  });

  it("times a request out on the clock, and ignores its acknowledgement when it comes later", async () => {
    const { clock, requests, route } = setup();
    const acknowledged = requests.expect("r1", { timeoutMs: 5_000, onTimeout: () => new Error("no node holds c9") });
    const outcome = acknowledged.then(
      () => "acknowledged",
      (error: Error) => error.message,
    );
    clock.advance(4_999);
    route({ kind: EnvelopeKind.Ack, requestId: "other" });
    clock.advance(1);
    route({ kind: EnvelopeKind.Ack, requestId: "r1" });
    expect(await outcome).toBe("no node holds c9");
  });

  it("with local delivery, writes an invocation to exactly the local connections its target names", async () => {
    const local = new MemoryLifetimeManager();
    const ann = new RecordingConnection("c1", "ann");
    const ben = new RecordingConnection("c2", "ben");
    for (const connection of [ann, ben]) await local.onConnected(connection);
    await local.addToGroup("c1", "red");
    const stats = emptyBackplaneStats();
    const router = new BackplaneRouter({
      serverId: "me",
      requests: new PendingRequests(new ManualClock()),
      stats,
      logger: silentLogger,
      onHeartbeat: () => undefined,
      onPresenceDelta: () => undefined,
      onPresenceSyncRequest: () => undefined,
      onPresenceSnapshot: () => undefined,
      onLocateRequest: () => undefined,
      onLocateAnswer: () => undefined,
      onForwardRequest: () => undefined,
      onRelay: () => undefined,
      onForwardResponse: () => undefined,
      onForwardCancel: () => undefined,
      onInvocation: (envelope) => deliverLocally(local, envelope, silentLogger),
      onGroupCommand: () => undefined,
      onResultRequest: () => undefined,
      onInspectRequest: () => undefined,
      onInspectResponse: () => undefined,
      onDisconnectCommand: () => undefined,
    });
    router.route(encodeEnvelope(invocation("m1", "to red", "groups", ["red"])));
    router.route(encodeEnvelope(invocation("m2", "to ben", "users", ["ben"])));
    router.route(encodeEnvelope(invocation("m3", "to c2", "connections", ["c2"])));
    router.route(encodeEnvelope(invocation("m1", "to red", "groups", ["red"])));
    expect(ann.received).toEqual(["to red"]);
    expect(ben.received).toEqual(["to ben", "to c2"]);
  });
});
