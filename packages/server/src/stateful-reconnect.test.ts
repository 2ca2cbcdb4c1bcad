import { startTcpProxy, type TcpProxy } from "@hubwire/test-support";
import { HttpTransportType, HubConnectionBuilder, HubConnectionState, type ILogger, type LogLevel } from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReplayBudget } from "./replay-buffer.js";
import { StatefulReconnect } from "./stateful-reconnect.js";
import { eventually } from "./test-helpers/official-client.js";
import { negotiate, openWebSocket } from "./test-helpers/raw-client.js";
import { testHub } from "./test-helpers/test-hub.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

const quiet: ILogger = { log: (_level: LogLevel, _message: string) => undefined };

describe.each(["json", "messagepack"] as const)("stateful reconnect with the official client (%s)", (protocol) => {
  let server: RunningServer;
  let proxy: TcpProxy;
  beforeAll(async () => {
    server = await startServer({
      hubs: { "/hub": testHub },
      hubOptions: { allowStatefulReconnect: true, keepAliveIntervalMs: 200, statefulReconnectWindowMs: 3_000 },
    });
    proxy = await startTcpProxy(server.port);
  });
  afterAll(async () => {
    await proxy.close();
    await server.close();
  });

  function build() {
    let builder = new HubConnectionBuilder()
      .withUrl(`http://127.0.0.1:${proxy.port}/hub`, { transport: HttpTransportType.WebSockets })
      .withStatefulReconnect()
      .withAutomaticReconnect([0, 100, 100])
      .configureLogging(quiet);
    if (protocol === "messagepack") builder = builder.withHubProtocol(new MessagePackHubProtocol());
    return builder.build();
  }

  it("survives cuts mid-traffic in both directions: 0 lost, 0 duplicated, same connection id, no onreconnecting", async () => {
    const connection = build();
    let reconnectingEvents = 0;
    connection.onreconnecting(() => reconnectingEvents++);
    const received: number[] = [];
    connection.on("numbered", (value: number) => received.push(value));
    await connection.start();
    const connectionId = connection.connectionId;
    const count = 600;

    const pushed = connection.invoke("pushNumbers", count, 5);
    const sending = (async () => {
      for (let i = 1; i <= count; i++) {
        await connection.send("take", i);
        if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const connectionsBefore = proxy.connectionCount;
    for (let cut = 0; cut < 5; cut++) {
      await new Promise((resolve) => setTimeout(resolve, 60));
      const before = proxy.connectionCount;
      proxy.cut();
      // The official client tries to re-attach once: a cut during that attempt ends the
      // connection by its own design, so the next cut waits until it is back.
      await eventually(() => proxy.connectionCount > before, 5_000, "the client to re-attach");
    }
    await sending;
    expect(await pushed).toBe(count);
    const taken = (await connection.invoke("taken")) as number[];
    await eventually(() => received.length >= count, 5_000, "every numbered message");

    expect(proxy.connectionCount).toBeGreaterThan(connectionsBefore);
    expect(taken).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(received).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(connection.connectionId).toBe(connectionId);
    expect(connection.state).toBe(HubConnectionState.Connected);
    expect(reconnectingEvents).toBe(0);
    await connection.stop();
  });
});

describe("stateful reconnect on the server", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({
      hubs: { "/hub": testHub },
      hubOptions: { allowStatefulReconnect: true, statefulReconnectWindowMs: 300, disconnectTimeoutMs: 300 },
    });
  });
  afterAll(() => server.close());

  it("answers useStatefulReconnect only to a client that asked", async () => {
    expect((await negotiate(server.origin, "/hub", "negotiateVersion=1")).body).not.toHaveProperty("useStatefulReconnect");
    expect((await negotiate(server.origin, "/hub", "negotiateVersion=1&useStatefulReconnect=true")).body).toMatchObject({
      useStatefulReconnect: true,
    });
    const off = await startServer({ hubs: { "/hub": testHub } });
    expect((await negotiate(off.origin, "/hub", "negotiateVersion=1&useStatefulReconnect=true")).body).not.toHaveProperty("useStatefulReconnect");
    await off.close();
  });

  it("forgets a dropped connection after the window: its token answers 404 and its buffer is freed", async () => {
    const { body } = await negotiate(server.origin, "/hub", "negotiateVersion=1&useStatefulReconnect=true");
    const url = `ws://127.0.0.1:${server.port}/hub?id=${body.connectionToken}`;
    const { socket } = await openWebSocket(url);
    socket!.send('{"protocol":"json","version":2}\u001e');
    await new Promise((resolve) => socket!.once("message", resolve));
    socket!.send('{"type":1,"invocationId":"1","target":"echo","arguments":["kept for the replay"]}\u001e');
    await new Promise((resolve) => socket!.once("message", resolve));
    socket!.terminate();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.hubs.connectionCount("/hub")).toBeGreaterThan(0);
    expect(server.hubs.replayBufferedBytes).toBeGreaterThan(0);
    await eventually(() => server.hubs.connectionCount("/hub") === 0, 2_000, "the window to pass");
    expect(server.hubs.replayBufferedBytes).toBe(0);
    expect((await openWebSocket(url)).status).toBe(404);
  });

  it("replays unacknowledged messages after Sequence when a raw client re-attaches", async () => {
    const { body } = await negotiate(server.origin, "/hub", "negotiateVersion=1&useStatefulReconnect=true");
    const url = `ws://127.0.0.1:${server.port}/hub?id=${body.connectionToken}`;
    const opened = await openWebSocket(url);
    const first = opened.socket!;
    const frames = opened.frames;
    first.send('{"protocol":"json","version":2}\u001e');
    first.send('{"type":1,"invocationId":"1","target":"echo","arguments":["a"]}\u001e{"type":1,"invocationId":"2","target":"echo","arguments":["b"]}\u001e');
    await eventually(() => frames.join("").includes('"invocationId":"2"'));
    // Acknowledge the first completion only, then drop.
    first.send('{"type":8,"sequenceId":1}\u001e');
    await new Promise((resolve) => setTimeout(resolve, 50));
    first.terminate();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const reopened = await openWebSocket(url);
    const second = reopened.socket!;
    const replay = reopened.frames;
    await eventually(() => replay.join("").includes('"invocationId":"2"'));
    const records = replay
      .join("")
      .split("\u001e")
      .filter(Boolean)
      .map((record) => JSON.parse(record) as { type: number });
    expect(records.slice(0, 2)).toEqual([
      { type: 9, sequenceId: 2 },
      { type: 3, invocationId: "2", result: "b" },
    ]);
    // The client's own Sequence, then a duplicate of invocation 2 (dropped) and a new invocation 3.
    second.send('{"type":9,"sequenceId":2}\u001e{"type":1,"invocationId":"2","target":"echo","arguments":["b"]}\u001e');
    second.send('{"type":1,"invocationId":"3","target":"echo","arguments":["c"]}\u001e');
    await eventually(() => replay.join("").includes('"invocationId":"3"'));
    const completions = replay
      .join("")
      .split("\u001e")
      .filter((record) => record.includes('"type":3'));
    expect(completions.filter((record) => record.includes('"invocationId":"2"'))).toHaveLength(1);
    second.terminate();
  });

  it("holds senders back while a connection's replay buffer is full, until the client acknowledges", async () => {
    const small = await startServer({
      hubs: { "/hub": testHub },
      hubOptions: { allowStatefulReconnect: true, statefulReconnectBufferBytes: 1_000 },
    });
    try {
      const { body } = await negotiate(small.origin, "/hub", "negotiateVersion=1&useStatefulReconnect=true");
      const { socket, frames } = await openWebSocket(`ws://127.0.0.1:${small.port}/hub?id=${body.connectionToken}`);
      socket!.send('{"protocol":"json","version":2}\u001e{"type":1,"invocationId":"1","target":"pushNumbers","arguments":[100,0]}\u001e');
      const count = () => (frames.join("").match(/"target":"numbered"/g) ?? []).length;
      await eventually(() => count() > 0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const heldAt = count();
      expect(heldAt).toBeLessThan(100);
      socket!.send(`{"type":8,"sequenceId":${heldAt}}\u001e`);
      await eventually(() => count() > heldAt, 2_000, "more after the Ack");
      socket!.terminate();
    } finally {
      await small.close();
    }
  });

  it("holds what the official client has not acknowledged yet past the buffer's limit, as .NET's writes wait, and ends nothing", async () => {
    // The official client acknowledges at most once a second: a loop of calls, or one large
    // result, passes a small buffer long before. The answers wait for room; none is lost.
    const small = await startServer({
      hubs: { "/hub": testHub },
      hubOptions: { allowStatefulReconnect: true, statefulReconnectBufferBytes: 2_000 },
    });
    const connection = new HubConnectionBuilder()
      .withUrl(`http://127.0.0.1:${small.port}/hub`, { transport: HttpTransportType.WebSockets })
      .withStatefulReconnect()
      .configureLogging(quiet)
      .build();
    try {
      let closed: Error | undefined;
      connection.onclose((error) => (closed = error ?? new Error("closed")));
      await connection.start();
      const large = "l".repeat(5_000);
      expect(await connection.invoke("echo", large)).toBe(large);
      const answers: unknown[] = [];
      for (let n = 0; n < 12; n++) answers.push(await connection.invoke("echo", `${n}`.padEnd(500, ".")));
      expect(answers).toEqual(Array.from({ length: 12 }, (_, n) => `${n}`.padEnd(500, ".")));
      expect(closed).toBeUndefined();
      expect(connection.state).toBe(HubConnectionState.Connected);
    } finally {
      await connection.stop();
      await small.close();
    }
  }, 20_000);

  it("ends a connection whose replay would pass the server-wide cap", async () => {
    const capped = await startServer({
      hubs: { "/hub": testHub },
      hubOptions: { allowStatefulReconnect: true },
      maxTotalReplayBytes: 2_000,
    });
    try {
      const { body } = await negotiate(capped.origin, "/hub", "negotiateVersion=1&useStatefulReconnect=true");
      const { socket } = await openWebSocket(`ws://127.0.0.1:${capped.port}/hub?id=${body.connectionToken}`);
      const closed = new Promise<number>((resolve) => socket!.once("close", resolve));
      socket!.send('{"protocol":"json","version":2}\u001e{"type":1,"invocationId":"1","target":"pushNumbers","arguments":[200,0]}\u001e');
      expect(await closed).toBe(1011);
      expect(capped.hubs.replayBufferedBytes).toBe(0);
    } finally {
      await capped.close();
    }
  });
});

describe("StatefulReconnect's numbering", () => {
  const invocation = { type: 1, target: "take", arguments: [] } as const;

  it("takes a Sequence after a replay that was cut short, up to one past the newest message received, and no further", () => {
    const stateful = new StatefulReconnect(1_000, new ReplayBudget(10_000));
    for (let i = 0; i < 5; i++) expect(stateful.accept(invocation)).toBe("process");
    expect(stateful.takeAck()).toBe(5);
    // The link drops; the client replays from 3, and that replay is cut after one message.
    stateful.disconnected();
    expect(stateful.accept({ type: 9, sequenceId: 3 })).toBe("drop");
    expect(stateful.accept(invocation)).toBe("drop");
    // Meanwhile the client got the Ack for 5: its next replay starts at 6, past the 4 expected next.
    stateful.disconnected();
    expect(stateful.accept({ type: 9, sequenceId: 6 })).toBe("drop");
    expect(stateful.accept(invocation)).toBe("process");
    expect(stateful.takeAck()).toBe(6);
    stateful.disconnected();
    expect(stateful.accept({ type: 9, sequenceId: 8 })).toEqual({ fatal: "Sequence ID greater than amount of messages we've received." });
  });
});
