/**
 * Stateful reconnect across nodes without sticky sessions, through a network that drops (a TCP
 * proxy cut) in front of nginx round-robin over two nodes on one Redis: `@hubwire/client` over long
 * polling and over Server-Sent Events, and the official client over WebSockets. A re-attach poll
 * that lands on the node that does not hold the connection is forwarded to the one that does; a
 * re-attach event stream or WebSocket is relayed to it. Either way the holder resumes the
 * connection: numbered messages both ways arrive once and in order, under the same connection id,
 * and the client never sees `onReconnecting`.
 */
import { HubConnection } from "@hubwire/client";
import { statefulReconnect } from "@hubwire/client/stateful-reconnect";
import {
  type Nginx,
  type NginxRequest,
  nginxClientTagHeader,
  nginxSkipReason,
  RedisProcess,
  startNginx,
  startTcpProxy,
  type TcpProxy,
} from "@hubwire/test-support";
import { HttpTransportType, HubConnectionBuilder, LogLevel } from "@microsoft/signalr";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { eventually, within } from "./harness/raw.js";
import { type RoundRobinNode, startRoundRobinNode } from "./harness/round-robin-node.js";
import { tally } from "./harness/scoreboard.js";

const skipReason = nginxSkipReason();
let redis: RedisProcess | undefined;
const nodes: RoundRobinNode[] = [];
let nginx: Nginx | undefined;
let proxy: TcpProxy | undefined;
let ready: Promise<void> = Promise.resolve();

beforeAll(() => {
  if (skipReason !== undefined) return;
  ready = (async () => {
    redis = await RedisProcess.start();
    const prefix = `stateful-across-${process.pid}`;
    const hubOptions = { allowStatefulReconnect: true, statefulReconnectWindowMs: 10_000 };
    await Promise.all(["A", "B"].map(async (name) => nodes.push(await startRoundRobinNode({ name, redisPort: redis!.port, prefix, hubOptions }))));
    nginx = await startNginx({ upstreams: nodes.map((node) => node.port), logRequests: true });
    proxy = await startTcpProxy(nginx.port);
  })();
  ready.catch(() => undefined);
});

afterAll(async () => {
  await ready.catch(() => undefined);
  await proxy?.close();
  await nginx?.stop();
  await Promise.all(nodes.map((node) => node.stop()));
  await redis?.dispose();
});

/** A stateful client as {@link exercise} drives it: ours or the official one. */
interface StatefulClient {
  invoke(method: string, ...args: unknown[]): Promise<unknown>;
  send(method: string, ...args: unknown[]): Promise<void>;
  /** The numbers the server's burst sent, as they arrived. */
  readonly ticks: readonly number[];
  /** How often `onReconnecting` fired. */
  readonly reconnecting: number;
  readonly connectionId: string | null | undefined;
}

/**
 * Sends 300 numbered messages each way while the network is cut, until two re-attaches landed on
 * the node not holding the connection (nginx alternates its upstreams, so this takes a few cuts);
 * then checks that every message arrived once and in order, under the same id, with no
 * reconnect, and tallies it. `reattaches`: the re-attach requests nginx logged so far.
 */
async function exercise(client: StatefulClient, label: { client: string; transport: string; how: string }, reattaches: () => NginxRequest[]): Promise<void> {
  const id = client.connectionId;
  const holder = await client.invoke("node");
  const holderPort = nodes.find((node) => node.name === holder)!.port;
  const count = 300;
  const burst = client.invoke("burst", count);
  const sending = (async () => {
    for (let n = 0; n < count; n++) {
      await client.send("note", n);
      if (n % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  const crossed = () => reattaches().filter((request) => request.upstreamPort !== holderPort).length;
  let cuts = 0;
  while (cuts < 4 || (crossed() < 2 && cuts < 24)) {
    await new Promise((resolve) => setTimeout(resolve, 60));
    const before = proxy!.connectionCount;
    proxy!.cut();
    cuts++;
    await eventually(() => proxy!.connectionCount > before, "the client to come back", 5_000);
    // A re-attach the server refused ends in a reconnect: fail here, on the cut that caused it.
    expect(client.reconnecting, `onReconnecting after cut ${cuts}`).toBe(0);
    // nginx (one worker) alternates its upstreams strictly: were the client's requests between two
    // re-attaches always even in number, every re-attach would land on the same node. A request of
    // the test's own, every other cut, moves the alternation on.
    if (cuts % 2 === 1)
      await fetch(`http://127.0.0.1:${nginx!.port}/`).then(
        (response) => response.arrayBuffer(),
        () => undefined,
      );
  }
  // A re-attach the server took for a new transport leaves the calls hanging: fail on them, not at the test's timeout.
  await within(sending, "the notes to go out", 10_000);
  expect(await within(burst, "the burst's answer", 10_000)).toBe(count);
  await eventually(() => client.ticks.length >= count, `${count} ticks`, 10_000).catch(() => undefined);
  const notes = (await client.invoke("notes")) as number[];
  const numbers = Array.from({ length: count }, (_, n) => n);
  const losses = (got: readonly number[]) => ({ lost: count - new Set(got).size, duplicated: got.length - new Set(got).size });
  const cases = `stateful, round-robin, ${label.client}, ${label.transport}, network cuts`;
  tally({ kind: "delivery", case: `${cases}, client to server`, sent: count, ...losses(notes) });
  tally({ kind: "delivery", case: `${cases}, server to client`, sent: count, ...losses(client.ticks) });
  expect(notes).toEqual(numbers);
  expect(client.ticks).toEqual(numbers);
  expect(client.connectionId).toBe(id);
  expect(client.reconnecting).toBe(0);
  // The same node holds it still, and re-attaches were served by the other one.
  expect(await client.invoke("node")).toBe(holder);
  expect(crossed()).toBeGreaterThanOrEqual(2);
  tally({
    kind: "figure",
    case: `stateful, round-robin, ${label.transport}: re-attaches nginx sent to the node not holding the connection, ${label.how} (of ${reattaches().length} ended, in ${cuts} cuts)`,
    value: crossed(),
    unit: "requests",
  });
}

describe("stateful reconnect across nodes, no sticky sessions (nginx round-robin, two nodes over Redis)", () => {
  for (const [transport, how] of [
    ["LongPolling", "forwarded"],
    ["ServerSentEvents", "relayed"],
  ] as const) {
    it(`@hubwire/client over ${transport}: re-attaches that land on the other node are ${how} to the holder; 0 lost, 0 duplicated, same id`, async (context: TestContext) => {
      if (skipReason !== undefined) context.skip(skipReason);
      await ready;
      const tag = `stateful-${transport}`;
      const connection = new HubConnection(`http://127.0.0.1:${proxy!.port}/hub`, {
        transports: [transport],
        headers: { [nginxClientTagHeader]: tag },
        accessTokenFactory: () => "carol",
        statefulReconnect: statefulReconnect(),
        reconnect: [0, 100],
      });
      const ticks: number[] = [];
      // Untyped calls: no contract here.
      (connection.on.bind(connection) as unknown as (method: string, handler: (n: number) => void) => void)("tick", (n) => ticks.push(n));
      let reconnecting = 0;
      connection.onReconnecting(() => reconnecting++);
      await connection.start();
      // Re-attaches: each link's first GET (a poll, or the event stream; a poll is logged as soon
      // as it is answered, a stream when it ends, at the next cut), answered 200 by a node.
      const reattaches = () => {
        const firsts = new Map<number, NginxRequest>();
        for (const request of nginx!.requests()) {
          if (request.clientTag === tag && request.method === "GET" && request.link !== undefined && !firsts.has(request.link))
            firsts.set(request.link, request);
        }
        return [...firsts.values()].filter((request) => request.status === 200 && request.upstreamPort !== undefined);
      };
      try {
        const client: StatefulClient = {
          invoke: connection.invoke.bind(connection) as unknown as StatefulClient["invoke"],
          send: connection.send.bind(connection) as unknown as StatefulClient["send"],
          ticks,
          get reconnecting() {
            return reconnecting;
          },
          get connectionId() {
            return connection.connectionId;
          },
        };
        await exercise(client, { client: "@hubwire/client", transport, how }, reattaches);
      } finally {
        await connection.stop();
      }
    }, 30_000);
  }

  it("the official client over WebSockets: re-attaches that land on the other node are relayed to the holder; 0 lost, 0 duplicated, same id", async (context: TestContext) => {
    if (skipReason !== undefined) context.skip(skipReason);
    await ready;
    const tag = "stateful-ws";
    const connection = new HubConnectionBuilder()
      .withUrl(`http://127.0.0.1:${proxy!.port}/hub`, {
        transport: HttpTransportType.WebSockets,
        headers: { [nginxClientTagHeader]: tag },
        accessTokenFactory: () => "dave",
      })
      .withStatefulReconnect()
      .configureLogging(LogLevel.None)
      .build();
    const ticks: number[] = [];
    connection.on("tick", (n: number) => ticks.push(n));
    let reconnecting = 0;
    connection.onreconnecting(() => reconnecting++);
    await connection.start();
    // The client's WebSockets, as nginx logs them when they end (a cut one at the next cut): the
    // first claimed the connection where it landed; the rest are re-attaches.
    const reattaches = () =>
      nginx!
        .requests()
        .filter((request) => request.clientTag === tag && request.status === 101)
        .slice(1);
    try {
      const client: StatefulClient = {
        invoke: (method, ...args) => connection.invoke(method, ...args),
        send: (method, ...args) => connection.send(method, ...args),
        ticks,
        get reconnecting() {
          return reconnecting;
        },
        get connectionId() {
          return connection.connectionId;
        },
      };
      await exercise(client, { client: "official client", transport: "WebSockets", how: "relayed" }, reattaches);
    } finally {
      await connection.stop();
    }
  }, 30_000);
});
