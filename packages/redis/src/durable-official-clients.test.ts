/**
 * Durable delivery with the official SignalR client on two Hubwire node processes: a sender on
 * node0 sends numbered messages to a group, a user and all, one at a time; a receiver on node1 is
 * in all three. Each scenario breaks Redis (or node1's link to it) mid-traffic and compares what
 * the receiver got with what the sender was told, and with the losses node1 reported. The figures
 * are printed at the end (docs/reliability.md quotes them). `DURABLE_TEST_DELIVERY=pubsub` runs
 * the same scenarios on pub/sub, where they must fail.
 */
import { RedisProcess } from "@hubwire/test-support";
import { HttpTransportType, type HubConnection, HubConnectionBuilder, HubConnectionState, NullLogger } from "@microsoft/signalr";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { readerConnectionName } from "./durable-delivery.js";
import { type HubNode, startHubNode } from "./test-helpers/hub-nodes.js";

const delivery = process.env["DURABLE_TEST_DELIVERY"] ?? "durable";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const summary: string[] = [];
afterAll(() => {
  if (summary.length > 0) console.log(`durable delivery (${delivery}), official clients on two node processes:\n${summary.join("\n")}`);
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function eventually(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await sleep(20);
  }
}

interface Client {
  readonly connection: HubConnection;
  /** Numbered messages received, in order. */
  readonly inbox: number[];
  readonly events: { reconnecting: number; reconnected: number; closed: number };
  /** Probes received (`probe-N`): the link between the nodes works. */
  probes: number;
}

/** An official client with automatic reconnect; back from a reconnect, it joins its groups again. */
async function startClient(node: HubNode, user: string, groups: readonly string[]): Promise<Client> {
  const connection = new HubConnectionBuilder()
    .withUrl(`http://127.0.0.1:${node.port}/hub`, { transport: HttpTransportType.WebSockets, accessTokenFactory: () => user })
    .withAutomaticReconnect([0, 100, 200, 500, 1_000, 1_000, 1_000, 1_000])
    .configureLogging(NullLogger.instance)
    .build();
  const client: Client = { connection, inbox: [], events: { reconnecting: 0, reconnected: 0, closed: 0 }, probes: 0 };
  connection.on("receive", (text: string) => {
    if (/^\d+$/.test(text)) client.inbox.push(Number(text));
    else if (text.startsWith("probe-")) client.probes++;
  });
  connection.onreconnecting(() => void client.events.reconnecting++);
  connection.onreconnected(async () => {
    for (const group of groups) await connection.invoke("join", group);
    client.events.reconnected++;
  });
  connection.onclose(() => void client.events.closed++);
  await connection.start();
  for (const group of groups) await connection.invoke("join", group);
  cleanups.push(() => connection.stop());
  return client;
}

/** Redis, two nodes (durable unless told otherwise), a sender on node0 and a receiver on node1 (user ann, group red). */
async function startScenario(redisArgs: readonly string[] = []) {
  const redis = await RedisProcess.start({ args: redisArgs });
  cleanups.push(() => redis.dispose());
  const prefix = `official-${Math.random().toString(36).slice(2)}`;
  const env = { DELIVERY: delivery, PUBLISH_TIMEOUT_MS: "500", HEARTBEAT_MS: "250" };
  const nodes = await Promise.all([startHubNode("node0", redis.port, prefix, env), startHubNode("node1", redis.port, prefix, env)]);
  for (const node of nodes) {
    cleanups.push(async () => {
      node.process.kill("SIGCONT");
      await node.stop();
    });
  }
  const sender = await startClient(nodes[0]!, "sam", []);
  const receiver = await startClient(nodes[1]!, "ann", ["red"]);
  // node1 has found its place in the stream (or subscribed): a probe gets through.
  let probe = 0;
  await eventually(
    () => {
      void sender.connection.invoke("sendTo", { kind: "user", id: "ann" }, `probe-${probe++}`).catch(() => undefined);
      return receiver.probes > 0;
    },
    10_000,
    "the receiver to hear the sender",
  );
  return { redis, nodes, sender, receiver };
}

const targets = [{ kind: "group", name: "red" }, { kind: "user", id: "ann" }, { kind: "all" }] as const;

/** Sends `from..to` one at a time, rotating through the targets; `during(i)` runs before send i. */
async function send(sender: Client, from: number, to: number, during: (i: number) => Promise<void> | void = () => undefined, method = "sendTo") {
  const ok: number[] = [];
  const failed: number[] = [];
  let retried = 0;
  for (let i = from; i <= to; i++) {
    await during(i);
    try {
      const attempts: unknown = await sender.connection.invoke(method, targets[i % targets.length], String(i));
      if (typeof attempts === "number" && attempts > 0) retried++;
      ok.push(i);
    } catch {
      failed.push(i);
    }
  }
  return { ok, failed, retried };
}

const isIncreasing = (numbers: readonly number[]) => numbers.every((n, i) => i === 0 || n > numbers[i - 1]!);
const reportedLost = (node: HubNode) => node.losses.reduce((sum, loss) => sum + (loss.lost ?? 0), 0);
const missing = (ok: readonly number[], inbox: readonly number[]) => ok.filter((i) => !inbox.includes(i));

describe(`durable delivery, official clients on two nodes (${delivery})`, () => {
  it("a Redis crash and restart with AOF while node1 is behind: every send told ok arrives, once, in order; nothing reported lost", async () => {
    const { redis, nodes, sender, receiver } = await startScenario(["--appendonly", "yes", "--appendfsync", "always"]);
    const sent = await send(sender, 1, 150, async (i) => {
      if (i === 40) nodes[1]!.process.kill("SIGSTOP");
      if (i === 80) {
        await redis.kill();
        await sleep(300);
        await redis.restart();
      }
      if (i === 120) nodes[1]!.process.kill("SIGCONT");
    });
    await eventually(() => missing(sent.ok, receiver.inbox).length === 0, 10_000, "every send told ok").catch(() => undefined);
    const late = receiver.inbox.filter((i) => sent.failed.includes(i)).length;
    summary.push(
      `Redis SIGKILL + restart with AOF: sent ${sent.ok.length} ok / ${sent.failed.length} failed (${late} of those arrived), delivered ${receiver.inbox.length}, missing ${missing(sent.ok, receiver.inbox).length}, reported lost ${reportedLost(nodes[1]!)}`,
    );
    expect(missing(sent.ok, receiver.inbox)).toEqual([]);
    expect(isIncreasing(receiver.inbox), "once each, in order").toBe(true);
    expect(nodes[1]!.losses).toEqual([]);
    expect(receiver.events.reconnecting).toBe(0);
  });

  it("a Redis restart without persistence while node1 is behind: node1 reports exactly what it lost and its clients reconnect", async () => {
    const { redis, nodes, sender, receiver } = await startScenario();
    const before = await send(sender, 1, 100, (i) => {
      if (i === 40) nodes[1]!.process.kill("SIGSTOP");
    });
    await redis.kill();
    await sleep(300);
    await redis.restart();
    nodes[1]!.process.kill("SIGCONT");
    // Both nodes lost their stream: both close their connections with allowReconnect, and the clients come back.
    await eventually(
      () =>
        receiver.events.reconnected > 0 &&
        sender.connection.state === HubConnectionState.Connected &&
        receiver.connection.state === HubConnectionState.Connected,
      10_000,
      "the clients to be told and reconnect",
    ).catch(() => undefined);
    const after = await send(sender, 101, 130);
    await eventually(() => receiver.inbox.includes(after.ok[after.ok.length - 1] ?? -1), 5_000, "sends after the restart").catch(() => undefined);
    const lost = missing(before.ok, receiver.inbox);
    summary.push(
      `Redis SIGKILL + restart without persistence: sent ${before.ok.length + after.ok.length} ok / ${before.failed.length + after.failed.length} failed, delivered ${receiver.inbox.length}, lost ${lost.length}, reported lost ${reportedLost(nodes[1]!)} (${nodes[1]!.losses.map((loss) => loss.reason).join(", ")}), receiver reconnected ${receiver.events.reconnected}x`,
    );
    expect(lost.length, "the crash took sends node1 had not read").toBeGreaterThan(0);
    expect(nodes[1]!.losses.map((loss) => loss.reason)).toContain("stream-reset");
    expect(reportedLost(nodes[1]!), "reported lost = told ok and never delivered").toBe(lost.length);
    expect(receiver.events.reconnecting, "closed with allowReconnect: the official client reconnects").toBeGreaterThan(0);
    expect(receiver.events.closed).toBe(0);
    expect(missing(after.ok, receiver.inbox)).toEqual([]);
    expect(isIncreasing(receiver.inbox)).toBe(true);
  });

  it("readers and subscribers dropped by CLIENT KILL mid-traffic: nothing lost, nothing twice, in order", async () => {
    const { redis, nodes, sender, receiver } = await startScenario();
    let killed = 0;
    const readerIds = async () =>
      (await redis.cli("client", "list"))
        .split("\n")
        .filter((line) => line.includes(`name=${readerConnectionName} `))
        .map((line) => /id=(\d+)/.exec(line)?.[1] ?? "");
    const sent = await send(sender, 1, 300, async (i) => {
      if (i % 75 !== 0) return;
      let ids = await readerIds();
      // Each node's reader (one shard) killed at the last point may still be reconnecting (ioredis
      // backs off): wait for both, so that every point kills both and tests a reconnect of each.
      const deadline = Date.now() + 5_000;
      while (delivery === "durable" && ids.length < nodes.length && Date.now() < deadline) {
        await sleep(20);
        ids = await readerIds();
      }
      for (const id of ids) await redis.cli("client", "kill", "id", id);
      killed += ids.length;
      await redis.cli("client", "kill", "type", "pubsub");
    });
    await eventually(() => missing(sent.ok, receiver.inbox).length === 0, 5_000, "every send").catch(() => undefined);
    summary.push(
      `CLIENT KILL of every reader and subscriber x4: sent ${sent.ok.length} ok / ${sent.failed.length} failed, delivered ${receiver.inbox.length}, missing ${missing(sent.ok, receiver.inbox).length}, reported lost ${reportedLost(nodes[1]!)}`,
    );
    expect(missing(sent.ok, receiver.inbox)).toEqual([]);
    expect(isIncreasing(receiver.inbox)).toBe(true);
    expect(nodes[1]!.losses).toEqual([]);
    if (delivery === "durable") expect(killed, "each node's reader killed at each of the 4 points").toBe(4 * nodes.length);
  });

  it("Redis paused (SIGSTOP) for 1.5 s: sends that fail are retried with their id and each arrives exactly once", async () => {
    const { redis, nodes, sender, receiver } = await startScenario();
    const sent = await send(
      sender,
      1,
      150,
      (i) => {
        if (i !== 50) return;
        redis.pause();
        setTimeout(() => redis.resume(), 1_500);
      },
      "sendWithRetry",
    );
    await eventually(() => missing(sent.ok, receiver.inbox).length === 0, 5_000, "every send").catch(() => undefined);
    summary.push(
      `Redis paused 1.5 s, failed sends retried with their id: sent ${sent.ok.length} ok (${sent.retried} after a retry) / ${sent.failed.length} failed, delivered ${receiver.inbox.length}, duplicates ${receiver.inbox.length - new Set(receiver.inbox).size}, reported lost ${reportedLost(nodes[1]!)}`,
    );
    expect(sent.failed).toEqual([]);
    expect(sent.retried).toBeGreaterThan(0);
    expect(receiver.inbox).toEqual(sent.ok);
    expect(nodes[1]!.losses).toEqual([]);
  });
});
