// The dispatcher and the invocation runner with a real connection, no sockets: a recording
// transport carries the records, the clock is a number, the lifetime manager is the in-memory one.
import { type HubContract, type HubMessage, type HubProtocol, JsonHubProtocol, MessageType } from "@hubwire/protocol";
import { describe, expect, it } from "vitest";
import { defineHub, type HubDefinition, HubError } from "./api.js";
import { type ConnectionSettings, HubConnection } from "./connection.js";
import { HubDispatcher } from "./hub-dispatcher.js";
import { resolveHubOptions } from "./hub-options.js";
import type { Logger } from "./logger.js";
import { MemoryLifetimeManager } from "./memory-lifetime-manager.js";
import { HubMetrics } from "./metrics.js";
import { ReplayBudget } from "./replay-buffer.js";
import { RecordingTransport } from "./test-helpers/recording-transport.js";

const RS = "\u001e";

interface Contract extends HubContract {
  server: { add(a: number, b: number): number; big(): bigint; fail(): void; refuse(): void; seen(): string[] };
  client: Record<string, never>;
}

const seen: string[] = [];
const hub = defineHub<Contract>({
  name: "unit",
  methods: {
    add: { args: ["number", "number"], handler: (_ctx, a, b) => a + b },
    big: () => 1n,
    fail: () => {
      throw new Error("internal detail");
    },
    refuse: () => {
      throw new HubError("Not today.");
    },
    seen: () => [...seen],
  },
  onConnected: async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    seen.push("onConnected");
  },
}) as unknown as HubDefinition;

function setup() {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const logger: Logger = { log: (level, message, fields) => void lines.push({ level, message, ...(fields === undefined ? {} : { fields }) }) };
  const clock = { now: 0 };
  const options = resolveHubOptions(undefined, undefined);
  const metrics = new HubMetrics();
  const dispatcher = new HubDispatcher({ hub, hubName: "unit", options, serverFilters: [], manager: new MemoryLifetimeManager(), logger, metrics });
  const settings: ConnectionSettings = {
    protocols: new Map<string, HubProtocol>([["json", new JsonHubProtocol()]]),
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
    logger,
    metrics,
    now: () => clock.now,
  };
  const connection = new HubConnection({ connectionId: "c1", connectionToken: "t1" }, settings, {
    connected: (c) => void dispatcher.connected(c),
    resumed: (c) => void dispatcher.resumed(c),
    message: (c, message) => dispatcher.message(c, message),
    refused: (c, envelope, error) => dispatcher.refused(c, envelope, error),
    callsAnswered: (c) => dispatcher.callsAnswered(c),
    closed: (c, error) => void dispatcher.disconnected(c, error, true),
  });
  const transport = new RecordingTransport();
  connection.attach(transport, { url: "/unit", query: new URLSearchParams(), headers: {}, remoteAddress: undefined }, undefined);
  const send = (text: string) => connection.receive(transport, new TextEncoder().encode(text));
  send(`{"protocol":"json","version":1}${RS}`);
  /** The Completion for `id`, once it has been written. */
  const completion = async (id: string): Promise<HubMessage> => {
    for (let turn = 0; turn < 200; turn++) {
      const found = transport.messages.find((message) => message.type === MessageType.Completion && message.invocationId === id);
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    throw new Error(`No Completion for ${id}.`);
  };
  return { send, completion, lines, connection, transport };
}

describe("the dispatcher and the invocation runner, without sockets", () => {
  it("runs no call before onConnected has finished, then answers in order", async () => {
    seen.length = 0;
    const { send, completion } = setup();
    send(`{"type":1,"invocationId":"1","target":"seen","arguments":[]}${RS}{"type":1,"invocationId":"2","target":"add","arguments":[2,3]}${RS}`);
    expect(await completion("1")).toEqual({ type: MessageType.Completion, invocationId: "1", result: ["onConnected"] });
    expect(await completion("2")).toEqual({ type: MessageType.Completion, invocationId: "2", result: 5 });
  });

  it("answers every failure with SignalR's texts, and logs it with hub, method and connection", async () => {
    const { send, completion, lines } = setup();
    send(
      [
        `{"type":1,"invocationId":"a","target":"nope","arguments":[]}`,
        `{"type":1,"invocationId":"b","target":"ADD","arguments":["x",1]}`,
        `{"type":1,"invocationId":"c","target":"fail","arguments":[]}`,
        `{"type":1,"invocationId":"d","target":"refuse","arguments":[]}`,
        `{"type":1,"invocationId":"e","target":"big","arguments":[]}`,
        `{"type":4,"invocationId":"f","target":"add","arguments":[1,2]}`,
        "",
      ].join(RS),
    );
    expect(await completion("a")).toMatchObject({ error: "Failed to invoke 'nope' due to an error on the server. HubException: Method does not exist." });
    expect(await completion("b")).toMatchObject({ error: "Failed to invoke 'add' due to an error on the server." });
    expect(await completion("c")).toMatchObject({ error: "An unexpected error occurred invoking 'fail' on the server." });
    expect(await completion("d")).toMatchObject({ error: "An unexpected error occurred invoking 'refuse' on the server. HubException: Not today." });
    expect(await completion("e")).toMatchObject({ error: "An unexpected error occurred invoking 'big' on the server." });
    expect(await completion("f")).toMatchObject({ error: "The client attempted to invoke the non-streaming 'add' method with a streaming invocation." });
    const unwritable = lines.find((line) => line.message.includes("result cannot be written"));
    expect(unwritable).toMatchObject({ level: "error", fields: { hub: "unit", method: "big", connectionId: "c1" } });
    expect(lines.find((line) => line.message === "A hub method threw.")).toMatchObject({ level: "error", fields: { method: "fail" } });
  });

  it("fails only the call whose arguments were refused, and reads on", async () => {
    const { send, completion, connection } = setup();
    send(
      `{"type":1,"invocationId":"p","target":"add","arguments":[{"__proto__":{}},1]}${RS}{"type":1,"invocationId":"q","target":"add","arguments":[1,1]}${RS}`,
    );
    expect(await completion("p")).toMatchObject({ error: "Failed to invoke 'add' due to an error on the server." });
    expect(await completion("q")).toMatchObject({ result: 2 });
    expect(connection.state).toBe("connected");
  });
});
