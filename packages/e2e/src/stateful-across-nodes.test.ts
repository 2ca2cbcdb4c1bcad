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
      // Untyped calls: no contract here.
      const invoke = connection.invoke.bind(connection) as unknown as (method: string, ...args: unknown[]) => Promise<unknown>;
      const send = connection.send.bind(connection) as unknown as (method: string, ...args: unknown[]) => Promise<void>;
      const on = connection.on.bind(connection) as unknown as (method: string, handler: (...args: unknown[]) => void) => void;
      const ticks: number[] = [];
      on("tick", (n) => ticks.push(n as number));
      let reconnecting = 0;
      connection.onReconnecting(() => reconnecting++);
      await connection.start();
      try {
        const id = connection.connectionId;
        const holder = await invoke("node");
        const count = 300;
        const burst = invoke("burst", count);
        const sending = (async () => {
          for (let n = 0; n < count; n++) {
            await send("note", n);
            if (n % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
          }
        })();
        // Cut until two re-attaches went to the other node (nginx alternates its upstreams, so this
        // takes a few cuts; a re-attach poll is logged as soon as it is answered, at once; an event
        // stream when it ends, at the next cut).
        const holderPort = nodes.find((node) => node.name === holder)!.port;
        // Re-attaches (each link's first GET: a poll, or the event stream) answered 200 by a node:
        // by the other one, they were forwarded (relayed) to the holder.
        const reattaches = () => {
          const firsts = new Map<number, NginxRequest>();
          for (const request of nginx!.requests()) {
            if (request.clientTag === tag && request.method === "GET" && request.link !== undefined && !firsts.has(request.link))
              firsts.set(request.link, request);
          }
          return [...firsts.values()].filter((request) => request.status === 200 && request.upstreamPort !== undefined);
        };
        const crossed = () => reattaches().filter((request) => request.upstreamPort !== holderPort).length;
        let cuts = 0;
        while (cuts < 4 || (crossed() < 2 && cuts < 24)) {
          await new Promise((resolve) => setTimeout(resolve, 60));
          const before = proxy!.connectionCount;
          proxy!.cut();
          cuts++;
          await eventually(() => proxy!.connectionCount > before, "the client to come back", 5_000);
          // A re-attach the server refused ends in a reconnect: fail here, on the cut that caused it.
          expect(reconnecting, `onReconnecting after cut ${cuts}`).toBe(0);
        }
        // A re-attach the server took for an ordinary poll leaves the calls hanging: fail on them, not at the test's timeout.
        await within(sending, "the notes to go out", 10_000);
        expect(await within(burst, "the burst's answer", 10_000)).toBe(count);
        await eventually(() => ticks.length >= count, `${count} ticks`, 10_000).catch(() => undefined);
        const notes = (await invoke("notes")) as number[];
        const numbers = Array.from({ length: count }, (_, n) => n);
        const losses = (got: readonly number[]) => ({ lost: count - new Set(got).size, duplicated: got.length - new Set(got).size });
        tally({
          kind: "delivery",
          case: `stateful, round-robin, @hubwire/client, ${transport}, network cuts, client to server`,
          sent: count,
          ...losses(notes),
        });
        tally({
          kind: "delivery",
          case: `stateful, round-robin, @hubwire/client, ${transport}, network cuts, server to client`,
          sent: count,
          ...losses(ticks),
        });
        expect(notes).toEqual(numbers);
        expect(ticks).toEqual(numbers);
        expect(connection.connectionId).toBe(id);
        expect(reconnecting).toBe(0);
        // The same node holds it still, and re-attaches were served by the other one (forwarded).
        expect(await invoke("node")).toBe(holder);
        expect(crossed()).toBeGreaterThanOrEqual(2);
        tally({
          kind: "figure",
          case: `stateful, round-robin, ${transport}: re-attach requests nginx sent to the node not holding the connection, ${how} (of ${reattaches().length} ended, in ${cuts} cuts)`,
          value: crossed(),
          unit: "requests",
        });
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
    try {
      const id = connection.connectionId;
      const holder = (await connection.invoke("node")) as string;
      const holderPort = nodes.find((node) => node.name === holder)!.port;
      const count = 300;
      const burst = connection.invoke("burst", count);
      const sending = (async () => {
        for (let n = 0; n < count; n++) {
          await connection.send("note", n);
          if (n % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      // The client's WebSockets (nginx logs one when it ends, so a cut one at the next cut): the
      // first claimed the connection where it landed; the rest are re-attaches, relayed when they
      // landed on the other node.
      const webSockets = () => nginx!.requests().filter((request) => request.clientTag === tag && request.status === 101);
      const crossed = () => webSockets().filter((request) => request.upstreamPort !== holderPort).length;
      let cuts = 0;
      while (cuts < 4 || (crossed() < 2 && cuts < 24)) {
        await new Promise((resolve) => setTimeout(resolve, 60));
        const before = proxy!.connectionCount;
        proxy!.cut();
        cuts++;
        await eventually(() => proxy!.connectionCount > before, "the client to come back", 5_000);
        expect(reconnecting, `onreconnecting after cut ${cuts}`).toBe(0);
      }
      await within(sending, "the notes to go out", 10_000);
      expect(await within(burst, "the burst's answer", 10_000)).toBe(count);
      await eventually(() => ticks.length >= count, `${count} ticks`, 10_000).catch(() => undefined);
      const notes = (await connection.invoke("notes")) as number[];
      const numbers = Array.from({ length: count }, (_, n) => n);
      const losses = (got: readonly number[]) => ({ lost: count - new Set(got).size, duplicated: got.length - new Set(got).size });
      tally({ kind: "delivery", case: "stateful, round-robin, official client, WebSockets, network cuts, client to server", sent: count, ...losses(notes) });
      tally({ kind: "delivery", case: "stateful, round-robin, official client, WebSockets, network cuts, server to client", sent: count, ...losses(ticks) });
      expect(notes).toEqual(numbers);
      expect(ticks).toEqual(numbers);
      expect(connection.connectionId).toBe(id);
      expect(reconnecting).toBe(0);
      expect(await connection.invoke("node")).toBe(holder);
      expect(crossed()).toBeGreaterThanOrEqual(2);
      tally({
        kind: "figure",
        case: `stateful, round-robin: re-attach WebSockets nginx sent to the node not holding the connection, relayed (of ${webSockets().length - 1} ended, in ${cuts} cuts)`,
        value: crossed(),
        unit: "WebSockets",
      });
    } finally {
      await connection.stop();
    }
  }, 30_000);
});
