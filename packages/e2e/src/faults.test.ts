import { RedisProcess, startTcpProxy, type TcpProxy } from "@hubwire/test-support";
import { HttpTransportType, type HubConnection, HubConnectionBuilder, LogLevel } from "@microsoft/signalr";
import { afterEach, describe, expect, it } from "vitest";
import { attack } from "./harness/attack.js";
import { HubNode } from "./harness/hub-node.js";
import { openNeighbour } from "./harness/neighbour.js";
import { eventually, RawHubSocket } from "./harness/raw.js";
import { tally } from "./harness/scoreboard.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function official(url: string, reconnectDelaysMs?: number[]): HubConnection {
  let builder = new HubConnectionBuilder().withUrl(url, { transport: HttpTransportType.WebSockets }).configureLogging(LogLevel.None);
  if (reconnectDelaysMs !== undefined) builder = builder.withAutomaticReconnect(reconnectDelaysMs);
  const connection = builder.build();
  connection.keepAliveIntervalInMilliseconds = 500;
  connection.serverTimeoutInMilliseconds = 3_000;
  return connection;
}

const hasLog = (node: HubNode, message: string) => node.logs.some((line) => line.message === message);

describe("faults", () => {
  it("detects a half-open client (its packets vanish) at the client timeout", async () => {
    const node = await HubNode.start({ hubOptions: { clientTimeoutMs: 1_500, keepAliveIntervalMs: 500 } });
    cleanups.push(() => node.stop());
    const proxy = await startTcpProxy(node.port);
    cleanups.push(() => proxy.close());
    const socket = await RawHubSocket.open(`http://127.0.0.1:${proxy.port}/hub`);
    const pings = setInterval(() => socket.send('{"type":6}\u001e'), 300);
    cleanups.push(() => clearInterval(pings));
    expect((await socket.invoke("echo", ["through the proxy"]))["result"]).toBe("through the proxy");
    proxy.setFault({ kind: "blackhole" });
    const started = Date.now();
    await eventually(() => hasLog(node, "Nothing heard within the client timeout."), "the server to give up on the silent client", 10_000);
    const detectedMs = Date.now() - started;
    tally({ kind: "timing", case: "half-open client, client timeout 1.5 s", what: "detection", value: detectedMs });
    expect(detectedMs).toBeGreaterThanOrEqual(1_000);
    expect(detectedMs).toBeLessThan(5_000);
  });

  it("survives a client whose TCP connection drops in the middle of a frame", async () => {
    const node = await HubNode.start();
    cleanups.push(() => node.stop());
    const neighbour = await openNeighbour(node.url);
    cleanups.push(() => neighbour.stop());
    const proxy = await startTcpProxy(node.port);
    cleanups.push(() => proxy.close());
    const socket = await RawHubSocket.open(`http://127.0.0.1:${proxy.port}/hub`);
    await attack(node, neighbour, "fault: TCP drop mid-frame", async () => {
      proxy.setFault({ kind: "cutAfter", bytes: 700 });
      socket.send(`{"type":1,"invocationId":"1","target":"echo","arguments":["${"x".repeat(4_000)}"]}\u001e`);
      await eventually(() => socket.closed !== undefined, "the drop");
    });
  });

  it("fails calls in flight on a crashed node at once, and clients reconnect to the other node", async () => {
    const redis = await RedisProcess.start();
    cleanups.push(() => redis.dispose());
    const nodeA = await HubNode.start({ name: "A", redisPort: redis.port });
    const nodeB = await HubNode.start({ name: "B", redisPort: redis.port });
    cleanups.push(
      () => nodeA.stop(),
      () => nodeB.stop(),
    );
    // The proxy is the load balancer: it sends new connections to B once A is gone.
    const balancer: TcpProxy = await startTcpProxy(nodeA.port);
    cleanups.push(() => balancer.close());
    const clients = Array.from({ length: 5 }, () => official(`http://127.0.0.1:${balancer.port}/hub`, [0, 100, 200, 500, 1_000, 2_000]));
    cleanups.push(() => Promise.all(clients.map((client) => client.stop())).then(() => undefined));
    await Promise.all(clients.map((client) => client.start()));
    expect(await clients[0]!.invoke("node")).toBe("A");
    const reconnected = clients.map((client) => new Promise<void>((resolve) => client.onreconnected(() => resolve())));
    const inFlight = clients.map((client) =>
      client.invoke("sleep", 5_000).then(
        () => "answered",
        (error: Error) => `failed: ${error.message}`,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    balancer.retarget(nodeB.port);
    const crashedAt = Date.now();
    nodeA.kill("SIGKILL");
    const outcomes = await Promise.all(inFlight);
    const failedMs = Date.now() - crashedAt;
    // Rejected with the connection's end (the official client names the close), not left hanging.
    for (const outcome of outcomes) expect(outcome).toMatch(/^failed: /);
    await Promise.all(reconnected);
    const recoveredMs = Date.now() - crashedAt;
    tally({ kind: "timing", case: "node crash (SIGKILL), 5 clients: calls in flight failed", what: "detection", value: failedMs });
    tally({ kind: "timing", case: "node crash (SIGKILL), 5 clients reconnected to the other node", what: "recovery", value: recoveredMs });
    for (const client of clients) expect(await client.invoke("node")).toBe("B");
    expect(failedMs).toBeLessThan(5_000);
  });

  it("reports a Redis partition to the caller within the publish timeout, and recovers when it heals", async () => {
    const redis = await RedisProcess.start();
    cleanups.push(() => redis.dispose());
    const partition = await startTcpProxy(redis.port);
    cleanups.push(() => partition.close());
    const node = await HubNode.start({ redisPort: partition.port });
    cleanups.push(() => node.stop());
    const socket = await RawHubSocket.open(node.url);
    expect((await socket.invoke("toAll", ["before"]))["error"]).toBeUndefined();
    partition.setFault({ kind: "blackhole" });
    const started = Date.now();
    const during = await socket.invoke("toAll", ["during"]);
    const detectedMs = Date.now() - started;
    expect(during["error"]).toBe("An unexpected error occurred invoking 'toAll' on the server.");
    tally({ kind: "timing", case: "Redis partition (blackhole), publish timeout 2 s", what: "detection", value: detectedMs });
    expect(detectedMs).toBeLessThan(5_000);
    partition.setFault({ kind: "pass" });
    await eventually(async () => (await socket.invoke("toAll", ["after"]))["error"] === undefined, "sends to work again", 15_000);
    socket.close();
  });

  it("reports Redis slowed (CLIENT PAUSE, then DEBUG SLEEP) to callers within the publish timeout, and carries on after", async () => {
    const redis = await RedisProcess.start();
    cleanups.push(() => redis.dispose());
    const node = await HubNode.start({ redisPort: redis.port });
    cleanups.push(() => node.stop());
    const socket = await RawHubSocket.open(node.url);
    cleanups.push(() => socket.close());
    expect((await socket.invoke("toAll", ["before"]))["error"]).toBeUndefined();
    // Each resolves once Redis is slowed (not when redis-cli was spawned), with the command's end.
    const slowdowns: Array<[string, () => Promise<{ over: Promise<unknown> }>]> = [
      // CLIENT PAUSE answers once writes are held.
      [
        "CLIENT PAUSE 4000 WRITE",
        async () => {
          await redis.cli("CLIENT", "PAUSE", "4000", "WRITE");
          return { over: Promise.resolve() };
        },
      ],
      // DEBUG SLEEP answers when it is over; it has begun when Redis stops answering a probe's PING.
      [
        "DEBUG SLEEP 4",
        async () => {
          const over = redis.cli("DEBUG", "SLEEP", "4").catch(() => undefined);
          await redis.untilStalled();
          return { over };
        },
      ],
    ];
    for (const [name, slow] of slowdowns) {
      const slowed = await slow();
      const started = Date.now();
      const during = await socket.invoke("toAll", ["during"], `during-${name}`);
      tally({ kind: "timing", case: `Redis slowed (${name}), publish timeout 2 s`, what: "detection", value: Date.now() - started });
      expect(during["error"]).toBe("An unexpected error occurred invoking 'toAll' on the server.");
      await slowed.over;
      await eventually(
        async () => (await socket.invoke("toAll", ["after"], `after-${name}-${Date.now()}`))["error"] === undefined,
        `sends to work after ${name}`,
        15_000,
      );
    }
  });

  it("keeps a client working through a slow, throttled link, and notices when its link half-closes", async () => {
    const node = await HubNode.start();
    cleanups.push(() => node.stop());
    const neighbour = await openNeighbour(node.url);
    cleanups.push(() => neighbour.stop());
    const link = await startTcpProxy(node.port);
    cleanups.push(() => link.close());
    const socket = await RawHubSocket.open(`http://127.0.0.1:${link.port}/hub`);
    link.setFault({ kind: "delay", ms: 150 });
    const started = Date.now();
    expect((await socket.invoke("echo", ["slow"]))["result"]).toBe("slow");
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    link.setFault({ kind: "throttle", bytesPerSecond: 20_000 });
    expect(((await socket.invoke("echo", ["t".repeat(8_000)]))["result"] as string).length).toBe(8_000);
    link.setFault({ kind: "pass" });
    await attack(node, neighbour, "fault: half-closed client link", async () => {
      link.halfClose();
      await eventually(() => socket.closed !== undefined, "the client to see its link end");
    });
  });

  it("cuts a client that stops reading at the outbound byte cap, while the others keep answering", async () => {
    const node = await HubNode.start({ hubOptions: { maxOutboundBufferBytes: 256 * 1024 } });
    cleanups.push(() => node.stop());
    const others = await Promise.all(Array.from({ length: 5 }, () => RawHubSocket.open(node.url)));
    cleanups.push(() => {
      for (const other of others) other.close();
    });
    const p99 = async (rounds: number) => {
      const samples: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const started = performance.now();
        await Promise.all(others.map((other, index) => other.invoke("echo", [round], `${round}-${index}`)));
        samples.push(performance.now() - started);
      }
      return samples.sort((a, b) => a - b)[Math.floor(samples.length * 0.99)]!;
    };
    const before = await p99(200);
    const slow = await RawHubSocket.open(node.url);
    await slow.invoke("join", ["feed"]);
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const sender = await RawHubSocket.open(node.url);
    const payload = "p".repeat(16 * 1024);
    const pump = (async () => {
      for (let index = 0; index < 2_000 && !hasLog(node, "Cutting a client that does not read what it is sent."); index++) {
        sender.send(`{"type":1,"target":"toGroup","arguments":["feed","${payload}"]}\u001e`);
        if (index % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    const during = await p99(200);
    await pump;
    await eventually(() => hasLog(node, "Cutting a client that does not read what it is sent."), "the slow client to be cut", 20_000);
    tally({ kind: "figure", case: "slow consumer: the others' echo p99 while it is fed, over before", value: during / before, unit: "x" });
    for (const other of others) expect((await other.invoke("echo", ["after"]))["result"]).toBe("after");
    sender.close();
  });

  it("shuts down gracefully: 503 for new, calls in flight finish, then Close with allowReconnect and exit within the deadline", async () => {
    const node = await HubNode.start({ drainMs: 3_000 });
    cleanups.push(() => node.stop());
    const client = official(node.url);
    let closedWith: Error | undefined;
    const closed = new Promise<void>((resolve) => client.onclose((error) => ((closedWith = error), resolve())));
    await client.start();
    const call = client.invoke("sleep", 800);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const termAt = Date.now();
    node.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await fetch(`${node.url}/negotiate?negotiateVersion=1`, { method: "POST" })).status).toBe(503);
    expect(await call).toBe(800);
    await closed;
    expect(closedWith?.message).toContain("The server is shutting down.");
    expect(await node.exited).toBe(0);
    const exitedMs = Date.now() - termAt;
    tally({ kind: "timing", case: "graceful shutdown with an 800 ms call in flight (deadline 3 s)", what: "drain", value: exitedMs });
    expect(exitedMs).toBeLessThan(3_000 + 2_000);
  });
});
