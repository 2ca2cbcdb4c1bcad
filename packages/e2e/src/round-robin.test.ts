/**
 * Three nodes over one Redis behind nginx, round-robin with no affinity: a connection negotiated
 * on one node has its transport requests (WebSocket, SSE GET, long-poll GETs, POSTs, DELETE) land
 * on the others. Each transport and protocol runs every feature a connection has through it, with
 * the official SignalR client (and once with ours over long polling). WebSockets with
 * skipNegotiation (one request, one node) is the control: it needs no routing.
 */
import { HubConnection as HubwireConnection } from "@hubwire/client";
import { type Nginx, type NginxRequest, nginxClientTagHeader, nginxSkipReason, RedisProcess, startNginx } from "@hubwire/test-support";
import { HttpTransportType, HubConnectionBuilder, LogLevel, Subject } from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { eventually } from "./harness/raw.js";
import { type RoundRobinNode, startRoundRobinNode } from "./harness/round-robin-node.js";
import { tally } from "./harness/scoreboard.js";

/** Each test's bound: a case that cannot work fails within it rather than hanging. */
const testTimeoutMs = 20_000;
/** Messages each way in the ordered burst. */
const burstSize = 100;

interface Case {
  readonly name: string;
  readonly client: "official" | "hubwire";
  readonly transport: "WebSockets" | "ServerSentEvents" | "LongPolling";
  readonly protocol: "json" | "messagepack";
  readonly skipNegotiation?: boolean;
}

// ServerSentEvents carries text only, so SignalR has no SSE with MessagePack (the client refuses it).
const cases: readonly Case[] = [
  { name: "WebSockets with skipNegotiation (control), JSON", client: "official", transport: "WebSockets", protocol: "json", skipNegotiation: true },
  {
    name: "WebSockets with skipNegotiation (control), MessagePack",
    client: "official",
    transport: "WebSockets",
    protocol: "messagepack",
    skipNegotiation: true,
  },
  { name: "WebSockets, JSON", client: "official", transport: "WebSockets", protocol: "json" },
  { name: "WebSockets, MessagePack", client: "official", transport: "WebSockets", protocol: "messagepack" },
  { name: "ServerSentEvents, JSON", client: "official", transport: "ServerSentEvents", protocol: "json" },
  { name: "LongPolling, JSON", client: "official", transport: "LongPolling", protocol: "json" },
  { name: "LongPolling, MessagePack", client: "official", transport: "LongPolling", protocol: "messagepack" },
  { name: "@hubwire/client, LongPolling, JSON", client: "hubwire", transport: "LongPolling", protocol: "json" },
];

/** One connection through nginx, whichever client carries it. It records what the hub sends it. */
interface TestClient {
  /** Sent as nginx's client tag header on each of its requests, to find them in nginx's log. */
  readonly tag: string;
  /** Its access token, which the nodes take as its user id. */
  readonly userId: string;
  /** Payloads of `message` (group and user sends), in arrival order. */
  readonly messages: unknown[];
  /** Numbers of `tick` (the server's burst), in arrival order. */
  readonly ticks: number[];
  /** Resolves with the close's error (undefined for a clean stop). */
  readonly closed: Promise<Error | undefined>;
  start(): Promise<void>;
  invoke(method: string, ...args: unknown[]): Promise<unknown>;
  send(method: string, ...args: unknown[]): Promise<void>;
  /** A server-to-client stream, collected. */
  stream(method: string, ...args: unknown[]): Promise<unknown[]>;
  /** Invokes `method` with `items` as a client-to-server stream. */
  upload(method: string, items: readonly number[]): Promise<unknown>;
  stop(): Promise<void>;
}

const answer = (tag: string, question: string) => `${tag} says yes to ${question}`;

function officialClient(url: string, testCase: Case, tag: string, userId: string): TestClient {
  let builder = new HubConnectionBuilder()
    .withUrl(url, {
      transport: HttpTransportType[testCase.transport],
      skipNegotiation: testCase.skipNegotiation === true,
      headers: { [nginxClientTagHeader]: tag },
      accessTokenFactory: () => userId,
    })
    .configureLogging(LogLevel.None);
  if (testCase.protocol === "messagepack") builder = builder.withHubProtocol(new MessagePackHubProtocol());
  const connection = builder.build();
  const client: TestClient = {
    tag,
    userId,
    messages: [],
    ticks: [],
    closed: new Promise((resolve) => connection.onclose((error) => resolve(error))),
    start: () => connection.start(),
    invoke: (method, ...args) => connection.invoke(method, ...args),
    send: (method, ...args) => connection.send(method, ...args),
    stream: (method, ...args) =>
      new Promise((resolve, reject) => {
        const items: unknown[] = [];
        connection.stream(method, ...args).subscribe({ next: (item) => items.push(item), complete: () => resolve(items), error: reject });
      }),
    upload: async (method, items) => {
      const subject = new Subject<number>();
      const result = connection.invoke(method, subject);
      for (const item of items) subject.next(item);
      subject.complete();
      return result;
    },
    stop: () => connection.stop(),
  };
  connection.on("message", (payload: unknown) => client.messages.push(payload));
  connection.on("tick", (n: number) => client.ticks.push(n));
  connection.on("confirm", (question: string) => answer(tag, question));
  return client;
}

function hubwireClient(url: string, testCase: Case, tag: string, userId: string): TestClient {
  if (testCase.protocol !== "json") throw new Error("The @hubwire/client case runs JSON only.");
  const connection = new HubwireConnection(url, {
    transports: [testCase.transport],
    headers: { [nginxClientTagHeader]: tag },
    accessTokenFactory: () => userId,
  });
  // Untyped calls: the suite drives both clients through one shape (no contract here).
  const invoke = connection.invoke.bind(connection) as unknown as (method: string, ...args: unknown[]) => Promise<unknown>;
  const send = connection.send.bind(connection) as unknown as (method: string, ...args: unknown[]) => Promise<void>;
  const stream = connection.stream.bind(connection) as unknown as (method: string, ...args: unknown[]) => AsyncIterable<unknown>;
  const on = connection.on.bind(connection) as unknown as (method: string, handler: (...args: unknown[]) => unknown) => void;
  const client: TestClient = {
    tag,
    userId,
    messages: [],
    ticks: [],
    closed: new Promise((resolve) => connection.onClose((error) => resolve(error))),
    start: () => connection.start(),
    invoke,
    send,
    stream: async (method, ...args) => {
      const items: unknown[] = [];
      for await (const item of stream(method, ...args)) items.push(item);
      return items;
    },
    upload: (method, items) =>
      invoke(
        method,
        (async function* () {
          yield* items;
        })(),
      ),
    stop: () => connection.stop(),
  };
  on("message", (payload) => client.messages.push(payload));
  on("tick", (n) => client.ticks.push(n as number));
  on("confirm", (question) => answer(tag, question as string));
  return client;
}

/** Resolves with `promise`, or rejects once `ms` have passed. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms.`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const skipReason = nginxSkipReason();

let redis: RedisProcess | undefined;
const nodes: RoundRobinNode[] = [];
let nginx: Nginx;
const nodeName = (port: number | undefined) => nodes.find((node) => node.port === port)?.name ?? `upstream ${port ?? "none"}`;
/** Redis, the nodes and nginx; a failure to start them fails each test (none is skipped under CI). */
let ready: Promise<void> = Promise.resolve();

/** Every test needs nginx: outside CI a machine without it skips them, under CI=true they fail. */
const needsNginx = (fn: () => Promise<void>) => async (context: TestContext) => {
  if (skipReason !== undefined) context.skip(skipReason);
  await ready;
  await fn();
};

beforeAll(() => {
  if (skipReason !== undefined) return;
  ready = (async () => {
    redis = await RedisProcess.start();
    const prefix = `round-robin-${process.pid}`;
    // Each kept as it starts, so that afterAll stops those that did if another did not.
    await Promise.all(["A", "B", "C"].map(async (name) => nodes.push(await startRoundRobinNode({ name, redisPort: redis!.port, prefix }))));
    nginx = await startNginx({ upstreams: nodes.map((node) => node.port), logRequests: true });
  })();
  // Reported by each test that awaits it.
  ready.catch(() => undefined);
});

afterAll(async () => {
  await ready.catch(() => undefined);
  if (nginx !== undefined) {
    const served = new Map<string, number>();
    for (const request of nginx.requests()) served.set(nodeName(request.upstreamPort), (served.get(nodeName(request.upstreamPort)) ?? 0) + 1);
    for (const [name, count] of served) tally({ kind: "figure", case: `round-robin: requests nginx sent to node ${name}`, value: count, unit: "requests" });
    await nginx.stop();
  }
  await Promise.all(nodes.map((node) => node.stop()));
  await redis?.dispose();
});

describe("round-robin load balancing with no affinity (nginx, three nodes over Redis)", () => {
  it(
    "sends three consecutive GETs of one client to three different nodes",
    needsNginx(async () => {
      const upstreams: string[] = [];
      for (let index = 0; index < 3; index++) {
        // The nodes answer 404 off their hub's paths; nginx names the node on any status.
        const response = await fetch(`${nginx.url}/`);
        expect(await response.text()).toBe("not found");
        upstreams.push(response.headers.get("X-Upstream") ?? "none");
      }
      expect(new Set(upstreams).size, `GETs answered by ${upstreams.join(", ")}`).toBe(3);
    }),
  );

  cases.forEach((testCase, caseIndex) => {
    describe(testCase.name, () => {
      const created: TestClient[] = [];
      let pair: Promise<[TestClient, TestClient]> | undefined;
      /** Two connections through nginx, started once for the case's tests (each fails with the start's error if it failed). */
      const clients = () =>
        (pair ??= (async () => {
          const make = testCase.client === "official" ? officialClient : hubwireClient;
          const a = make(`${nginx.url}/hub`, testCase, `case${caseIndex}-a`, `alice-${caseIndex}`);
          const b = make(`${nginx.url}/hub`, testCase, `case${caseIndex}-b`, `bob-${caseIndex}`);
          created.push(a, b);
          await within(Promise.all([a.start(), b.start()]), 10_000, "Starting two connections");
          return [a, b];
        })());
      const stopAll = () => Promise.all(created.map((client) => within(client.stop(), 5_000, `Stopping ${client.tag}`).catch(() => undefined)));
      afterAll(stopAll);

      it(
        "answers calls with their results",
        needsNginx(async () => {
          const [a, b] = await clients();
          expect(await a.invoke("echo", "through nginx")).toBe("through nginx");
          expect(await b.invoke("add", 2, 3)).toBe(5);
          expect(await a.invoke("echo", { list: [1, "two", true], nested: { ok: null } })).toEqual({ list: [1, "two", true], nested: { ok: null } });
          expect(["A", "B", "C"]).toContain(await a.invoke("node"));
        }),
        testTimeoutMs,
      );

      it(
        "fails a call with the hub's error text",
        needsNginx(async () => {
          const [a] = await clients();
          await expect(a.invoke("failPublicly")).rejects.toThrow(
            "An unexpected error occurred invoking 'failPublicly' on the server. HubException: You may know this.",
          );
          // The connection carries on.
          expect(await a.invoke("echo", "after the error")).toBe("after the error");
        }),
        testTimeoutMs,
      );

      it(
        "delivers a group send to each member, whichever node holds it",
        needsNginx(async () => {
          const [a, b] = await clients();
          const group = `room-${caseIndex}`;
          await a.invoke("join", group);
          await b.invoke("join", group);
          await a.invoke("toGroup", group, `to the group ${caseIndex}`);
          await eventually(() => [a, b].every((client) => client.messages.includes(`to the group ${caseIndex}`)), "both members to get the group send", 5_000);
        }),
        testTimeoutMs,
      );

      it(
        "delivers a send to a user, and only to that user",
        needsNginx(async () => {
          const [a, b] = await clients();
          await a.invoke("toUser", b.userId, `to bob ${caseIndex}`);
          await eventually(() => b.messages.includes(`to bob ${caseIndex}`), "the user to get the send", 5_000);
          expect(a.messages).not.toContain(`to bob ${caseIndex}`);
        }),
        testTimeoutMs,
      );

      it(
        "streams from the server to the client",
        needsNginx(async () => {
          const [a] = await clients();
          expect(await a.stream("count", 5)).toEqual([0, 1, 2, 3, 4]);
        }),
        testTimeoutMs,
      );

      it(
        "takes an upload stream from the client",
        needsNginx(async () => {
          const [a] = await clients();
          expect(await a.upload("sum", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toBe(55);
        }),
        testTimeoutMs,
      );

      it(
        "returns a client's result: the caller's, and another connection's",
        needsNginx(async () => {
          const [a, b] = await clients();
          expect(await a.invoke("ask", "one")).toBe(answer(a.tag, "one"));
          const bId = await b.invoke("connectionId");
          expect(await a.invoke("askClient", bId, "two")).toBe(answer(b.tag, "two"));
        }),
        testTimeoutMs,
      );

      it(
        `keeps ${burstSize} numbered messages each way in order, none lost or duplicated`,
        needsNginx(async () => {
          const [a] = await clients();
          const numbers = Array.from({ length: burstSize }, (_, index) => index);
          // Sent without waiting for one another: the client queues them in order.
          await Promise.all(numbers.map((n) => a.send("note", n)));
          const received = (await a.invoke("notes")) as number[];
          expect(await a.invoke("burst", burstSize)).toBe(burstSize);
          await eventually(() => a.ticks.length >= burstSize, `${burstSize} ticks`, 5_000).catch(() => undefined);
          const losses = (got: readonly number[]) => ({ lost: burstSize - new Set(got).size, duplicated: got.length - new Set(got).size });
          for (const [direction, got] of [
            ["client to server", received],
            ["server to client", a.ticks],
          ] as const) {
            tally({ kind: "delivery", case: `round-robin, ${testCase.name}, ${direction}`, sent: burstSize, ...losses(got) });
          }
          expect(received).toEqual(numbers);
          expect(a.ticks).toEqual(numbers);
        }),
        testTimeoutMs,
      );

      it(
        "stops cleanly",
        needsNginx(async () => {
          const connected = await clients();
          await within(Promise.all(connected.map((client) => client.stop())), 5_000, "Stopping");
          for (const client of connected) expect(await within(client.closed, 1_000, `${client.tag}'s close`)).toBeUndefined();
        }),
        testTimeoutMs,
      );

      it(
        testCase.skipNegotiation === true
          ? "carries each connection in one request to one node"
          : "serves a connection's later requests on another node than its negotiate",
        needsNginx(async () => {
          // Whatever the tests above did, the connections end here: each request is logged once it ends.
          await clients().catch(() => undefined);
          await stopAll();
          const tags = new Set(created.map((client) => client.tag));
          const ofCase = () => nginx.requests().filter((request) => request.clientTag !== undefined && tags.has(request.clientTag));
          const describeLog = (requests: readonly NginxRequest[]) =>
            requests
              .map((r) => `${r.clientTag} ${r.method} ${r.path}${r.connectionToken === undefined ? "" : " id"} -> ${nodeName(r.upstreamPort)} ${r.status}`)
              .join("\n");
          if (testCase.skipNegotiation === true) {
            await eventually(() => ofCase().length >= tags.size, "both upgrades to be logged", 3_000).catch(() => undefined);
            const requests = ofCase();
            expect(requests.map((r) => `${r.clientTag} ${r.method} ${r.status}`).sort(), describeLog(requests)).toEqual(
              [...tags].sort().map((tag) => `${tag} GET 101`),
            );
            return;
          }
          // Per connection: did another node than its negotiate's serve one of its later requests?
          // Served: not refused (404, 5xx); 499 is a poll the client itself ended when it stopped.
          const served = (request: NginxRequest) => request.status < 400 || request.status === 499;
          const spread = () => {
            const requests = ofCase();
            return [...tags].some((tag) => {
              const own = requests.filter((request) => request.clientTag === tag);
              const negotiate = own.find((request) => request.path.endsWith("/negotiate"));
              return (
                negotiate !== undefined &&
                own.some((request) => request.connectionToken !== undefined && served(request) && request.upstreamPort !== negotiate.upstreamPort)
              );
            });
          };
          await eventually(spread, "a connection's requests to be logged on more than one node", 3_000).catch(() => undefined);
          const requests = ofCase();
          expect(spread(), `nginx's log of this case:\n${describeLog(requests)}`).toBe(true);
        }),
        testTimeoutMs,
      );
    });
  });
});

describe("a node killed with SIGKILL behind the round-robin balancer", () => {
  it(
    "answers its connections' requests with 404 on the other nodes within the liveness bound, and its clients reconnect",
    needsNginx(async () => {
      // Last in the file: it kills one of the three nodes the cases above share.
      const victim = nodes[2]!;
      const survivor = nodes[0]!;
      // A raw connection held by the victim: negotiated anywhere, claimed by a poll on the victim.
      const negotiated = (await (await fetch(`${nginx.url}/hub/negotiate?negotiateVersion=1`, { method: "POST" })).json()) as { connectionToken: string };
      const token = negotiated.connectionToken;
      expect((await fetch(`http://127.0.0.1:${victim.port}/hub?id=${token}`)).status).toBe(200);
      // An official client over long polling, reconnecting by itself, whose calls run on whichever node holds it.
      const connection = new HubConnectionBuilder()
        .withUrl(`${nginx.url}/hub`, { transport: HttpTransportType.LongPolling })
        .withAutomaticReconnect([0, 200, 500, 1_000, 1_000, 2_000, 2_000, 2_000, 2_000, 2_000])
        .configureLogging(LogLevel.None)
        .build();
      let reconnected = 0;
      connection.onreconnected(() => reconnected++);
      const holders = new Set<string>();
      try {
        // Connect until one connection lives on the victim (round-robin: within a few tries).
        for (let attempt = 0; attempt < 6 && !holders.has(victim.name); attempt++) {
          if (connection.state !== "Disconnected") await connection.stop();
          await connection.start();
          holders.add((await connection.invoke("node")) as string);
        }
        expect(holders.has(victim.name), `the client's connections lived on ${[...holders].join(", ")}`).toBe(true);
        const killedAt = Date.now();
        await victim.stop(); // SIGKILL
        // The victim's connection: the others say 404 once its liveness has run out (three heartbeat
        // intervals of 2 s, checked every interval); the wait allows about twice that.
        let status = 0;
        while (status !== 404 && Date.now() - killedAt < 15_000) {
          status = (await fetch(`http://127.0.0.1:${survivor.port}/hub?id=${token}`, { method: "POST", body: '{"type":6}\u001e' })).status;
          if (status !== 404) await new Promise((resolve) => setTimeout(resolve, 250));
        }
        expect(status).toBe(404);
        tally({ kind: "figure", case: "round-robin: a SIGKILLed node's connection answered 404 elsewhere after", value: Date.now() - killedAt, unit: "ms" });
        // The client noticed, reconnected through nginx to a survivor, and calls again.
        await eventually(() => reconnected > 0 && connection.state === "Connected", "the client to reconnect", 15_000);
        expect(await connection.invoke("add", 2, 3)).toBe(5);
        expect(await connection.invoke("node")).not.toBe(victim.name);
      } finally {
        await connection.stop();
      }
    }),
    40_000,
  );
});
