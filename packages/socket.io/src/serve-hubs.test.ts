import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { redisLifetimeManager } from "@hubwire/redis";
import { createHubServer, defineHub, type HubContract, HubError, type HubServer, type Principal, silentLogger } from "@hubwire/server";
import * as signalR from "@microsoft/signalr";
import { type Attributes, createNoopMeter, type Meter } from "@opentelemetry/api";
import { Server } from "socket.io";
import { io, type Socket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { isCallError } from "./call-answers.js";
import { serveHubs } from "./serve-hubs.js";
import type { ClientEvents, ServerEvents } from "./typed-events.js";

interface ChatContract extends HubContract {
  server: {
    add(a: number, b: number): number;
    fail(text: string): void;
    join(group: string): void;
    say(group: string, text: string): void;
    whoAmI(): { connectionId: string; transport: string; userId: string | null; visits: number };
    ask(connectionId: string, question: string): boolean;
    big(): unknown;
    count(to: number): AsyncIterable<number>;
    note(text: string): void;
    hold(): void;
    double(n: number): number;
  };
  client: {
    receive(from: string, text: string): void;
    confirm(question: string): boolean;
  };
}

const notes: string[] = [];
/** Released by a test: `hold` waits for it, so the calls behind it queue up. */
let gate = openableGate();

function openableGate(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}
const disconnected: Array<{ connectionId: string; error: string | undefined }> = [];

const chat = defineHub<ChatContract>({
  methods: {
    add: (_ctx, a, b) => a + b,
    fail: (_ctx, text) => {
      throw new HubError(text);
    },
    join: (ctx, group) => ctx.groups.add(ctx.connectionId, group),
    say: (ctx, group, text) => ctx.clients.group(group).receive(ctx.connectionId, text),
    whoAmI: (ctx) => {
      const visits = ((ctx.items.get("visits") as number | undefined) ?? 0) + 1;
      ctx.items.set("visits", visits);
      return { connectionId: ctx.connectionId, transport: ctx.transport, userId: ctx.userId ?? null, visits };
    },
    ask: (ctx, connectionId, question) => ctx.clients.client(connectionId).invoke.confirm(question),
    big: () => 10n,
    count: async function* (_ctx, to) {
      for (let i = 1; i <= to; i++) yield i;
    },
    note: (_ctx, text) => {
      notes.push(text);
    },
    hold: () => gate.promise,
    double: { args: ["number"], handler: (_ctx, n) => n * 2 },
  },
  onDisconnected: (ctx, error) => {
    disconnected.push({ connectionId: ctx.connectionId, error: error?.message });
  },
});

type ChatSocket = Socket<ClientEvents<ChatContract>, ServerEvents<ChatContract>>;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  notes.length = 0;
  disconnected.length = 0;
  gate.resolve();
  gate = openableGate();
});

async function eventually(predicate: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Served {
  hubs: HubServer;
  io: Server;
  url: string;
  http: HttpServer;
}

async function serve(options: Parameters<typeof createHubServer>[0] = {}, ioOptions: ConstructorParameters<typeof Server>[1] = {}): Promise<Served> {
  const http = createServer();
  const hubs = createHubServer({ hubs: { "/chat": chat }, logger: silentLogger, ...options }).attach(http);
  const ioServer = new Server(http, { destroyUpgrade: false, ...ioOptions });
  serveHubs(ioServer, hubs, { "/chat": chat });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  cleanups.push(async () => {
    await hubs.close({ drainTimeoutMs: 0 });
    ioServer.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });
  return { hubs, io: ioServer, url, http };
}

async function socketIoClient(url: string, options: Parameters<typeof io>[1] = {}): Promise<ChatSocket> {
  const socket: ChatSocket = io(`${url}/chat`, { transports: ["websocket"], reconnection: false, ...options });
  cleanups.push(() => socket.disconnect());
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return socket;
}

async function signalRClient(url: string, configure?: (builder: signalR.HubConnectionBuilder) => void): Promise<signalR.HubConnection> {
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(`${url}/chat`, { transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.None);
  configure?.(builder);
  const connection = builder.build();
  cleanups.push(() => connection.stop());
  await connection.start();
  return connection;
}

/** The error text a SignalR client reads for a failed call. */
async function signalRError(connection: signalR.HubConnection, method: string, ...args: unknown[]): Promise<string> {
  try {
    await connection.invoke(method, ...args);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${method} did not fail.`);
}

describe("socket.io clients on a hub", () => {
  it("calls hub methods with acknowledgements, as SignalR clients do", async () => {
    const { url } = await serve();
    const socket = await socketIoClient(url);
    expect(await socket.emitWithAck("add", 2, 3)).toBe(5);
    const me = await socket.emitWithAck("whoAmI");
    expect(me).toEqual({ connectionId: socket.id, transport: "socket.io", userId: null, visits: 1 });
    expect(await socket.emitWithAck("whoAmI")).toMatchObject({ visits: 2 });
    // Without an acknowledgement the call runs and answers nothing (SignalR's send).
    socket.emit("note", "fire and forget");
    await eventually(() => notes.includes("fire and forget"), "the note");
  });

  it("ends a call in flight when the connection does, given socket.io-client's ackTimeout (as the docs advise)", async () => {
    const { url, hubs } = await serve();
    const socket = await socketIoClient(url, { ackTimeout: 30_000 });
    const call = socket.emitWithAck("hold").then(
      () => "answered",
      (error: Error) => error.message,
    );
    await eventually(() => hubs.connectionCount("/chat") === 1, "the connection");
    await new Promise((resolve) => setTimeout(resolve, 50));
    await hubs.inspect(chat).disconnect(socket.id!);
    expect(await call).toBe("socket has been disconnected");
  });

  it("answers failures with the text a SignalR client reads", async () => {
    const { url } = await serve();
    const socket = await socketIoClient(url);
    const signalr = await signalRClient(url);
    const cases: Array<[string, unknown[]]> = [
      ["fail", ["nope"]], // a HubError's own words
      ["noSuchMethod", []], // unknown method
      ["add", [1]], // too few arguments
      ["add", [1, 2, 3]], // too many
      ["double", ["two"]], // the wrong type for its spec
      ["count", [3]], // a streaming method, called as a plain one
      ["big", []], // a result the encoding cannot carry
    ];
    for (const [method, args] of cases) {
      const answer = await (socket as unknown as Socket).emitWithAck(method, ...args);
      expect(isCallError(answer), `${method} answers an error`).toBe(true);
      const expected = await signalRError(signalr, method, ...args);
      expect((answer as { error: string }).error, method).toBe(expected);
    }
    expect(((await socket.emitWithAck("fail", "nope")) as { error: string }).error).toBe(
      "An unexpected error occurred invoking 'fail' on the server. HubException: nope",
    );
    // The connection reads on after each.
    expect(await socket.emitWithAck("add", 1, 1)).toBe(2);
  });

  it("puts socket.io and SignalR clients in one group, and hubContext sends reach both", async () => {
    const { url, hubs } = await serve();
    const socket = await socketIoClient(url);
    const signalr = await signalRClient(url);
    const bySocket: string[] = [];
    const bySignalR: string[] = [];
    socket.on("receive", (from, text) => bySocket.push(`${from}:${text}`));
    signalr.on("receive", (from: string, text: string) => bySignalR.push(`${from}:${text}`));
    await socket.emitWithAck("join", "room");
    await signalr.invoke("join", "room");
    await socket.emitWithAck("say", "room", "from socket.io");
    await signalr.invoke("say", "room", "from signalr");
    await hubs.hubContext(chat).clients.group("room").receive("server", "from hubContext");
    await hubs.hubContext(chat).clients.all.receive("server", "to all");
    const expected = [`${socket.id}:from socket.io`, `${signalr.connectionId}:from signalr`, "server:from hubContext", "server:to all"];
    await eventually(() => bySocket.length === 4 && bySignalR.length === 4, "both to receive four messages");
    expect(bySocket).toEqual(expected);
    expect(bySignalR).toEqual(expected);
  });

  it("skips, for socket.io clients only, a send to many that socket.io cannot carry, and delivers the next", async () => {
    const { url, hubs } = await serve();
    const socket = await socketIoClient(url);
    const signalr = await signalRClient(url);
    const bySocket: string[] = [];
    const bySignalR: string[] = [];
    socket.on("receive", (_from, text) => bySocket.push(text));
    signalr.on("receive", (_from: string, text: string) => bySignalR.push(text));
    signalr.on("disconnect", (text: string) => bySignalR.push(`disconnect ${text}`));
    const all = hubs.hubContext(chat).clients.all as unknown as Record<string, (...args: unknown[]) => Promise<void>>;
    await all["disconnect"]!("a reserved name"); // socket.io keeps "disconnect" for itself
    await all["receive"]!("server", "after");
    await eventually(() => bySocket.length === 1 && bySignalR.length === 2, "the sends");
    expect(bySocket).toEqual(["after"]);
    expect(bySignalR).toEqual(["disconnect a reserved name", "after"]);
    expect(socket.connected).toBe(true);
  });

  it("runs client results both ways between the two kinds", async () => {
    const { url, hubs } = await serve({ hubOptions: { clientResultTimeoutMs: 2_000 } });
    const socket = await socketIoClient(url);
    const signalr = await signalRClient(url);
    socket.on("confirm", (question, ack) => ack(question === "socket.io?"));
    signalr.on("confirm", (question: string) => question === "signalr?");
    // A SignalR client asks the socket.io client through the hub, and the other way round.
    expect(await signalr.invoke("ask", socket.id, "socket.io?")).toBe(true);
    expect(await socket.emitWithAck("ask", signalr.connectionId!, "signalr?")).toBe(true);
    expect(await hubs.hubContext(chat).clients.client(socket.id!).invoke.confirm("no")).toBe(false);
    // A client that answers with { error } fails the result, as a SignalR client's error does.
    socket.off("confirm");
    socket.on("confirm", (_question, ack) => ack({ error: "I refuse." }));
    await expect(hubs.hubContext(chat).clients.client(socket.id!).invoke.confirm("?")).rejects.toThrow("I refuse.");
    // One that never answers is timed out by the hub's client result timeout.
    socket.off("confirm");
    socket.on("confirm", () => undefined as never);
    await expect(hubs.hubContext(chat).clients.client(socket.id!).invoke.confirm("?")).rejects.toThrow(/did not answer/);
  });

  it("authenticates with socket.io's auth token and refuses as SignalR does", async () => {
    const { url, hubs } = await serve({
      authenticate: ({ accessToken }) => (accessToken?.startsWith("user:") ? { userId: accessToken.slice(5) } : undefined),
      hubOptions: { requireAuthentication: true },
    });
    const refused = await socketIoClient(url).catch((error: Error & { data?: unknown }) => error);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toBe("Unauthorized");
    expect((refused as { data?: unknown }).data).toEqual({ status: 401 });

    const ada = await socketIoClient(url, { auth: { token: "user:ada" } });
    expect(await ada.emitWithAck("whoAmI")).toMatchObject({ userId: "ada" });
    const signalr = await signalRClient(url, (builder) =>
      builder.withUrl(`${url}/chat`, { transport: signalR.HttpTransportType.WebSockets, accessTokenFactory: () => "user:ada" }),
    );
    const received: string[] = [];
    ada.on("receive", (_from, text) => received.push(`socket.io ${text}`));
    signalr.on("receive", (_from: string, text: string) => received.push(`signalr ${text}`));
    await hubs.hubContext(chat).clients.user("ada").receive("server", "hi ada");
    await eventually(() => received.length === 2, "both of ada's connections");
    expect(received.sort()).toEqual(["signalr hi ada", "socket.io hi ada"]);
  });

  it("refuses with 403 when the hub's authorize does", async () => {
    const guarded = defineHub<ChatContract>({ ...chat, authorize: (principal: Principal | undefined) => principal?.userId === "admin" } as never);
    const http = createServer();
    const hubs = createHubServer({
      hubs: { "/guarded": guarded },
      logger: silentLogger,
      authenticate: ({ accessToken }) => (accessToken ? { userId: accessToken } : undefined),
    }).attach(http);
    const ioServer = new Server(http);
    serveHubs(ioServer, hubs, { "/guarded": guarded });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    cleanups.push(async () => {
      ioServer.close();
      http.closeAllConnections();
      await hubs.close({ drainTimeoutMs: 0 });
    });
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/guarded`;
    const refused = await new Promise<Error & { data?: unknown }>((resolve) => {
      const socket = io(url, { auth: { token: "mallory" }, transports: ["websocket"], reconnection: false });
      cleanups.push(() => socket.disconnect());
      socket.once("connect_error", resolve);
    });
    expect(refused.data).toEqual({ status: 403 });
    const admin = io(url, { auth: { token: "admin" }, transports: ["websocket"], reconnection: false });
    cleanups.push(() => admin.disconnect());
    await new Promise((resolve) => admin.once("connect", () => resolve(undefined)));
  });

  it("runs onDisconnected, lists socket.io clients in the inspection, and lets an operator disconnect one", async () => {
    const { url, hubs } = await serve();
    const socket = await socketIoClient(url);
    const socketId = socket.id!;
    await socket.emitWithAck("join", "room");
    const page = await hubs.inspect(chat).connections({ limit: 10 });
    expect(page.items).toEqual([expect.objectContaining({ connectionId: socket.id, transport: "socket.io", groups: ["room"] })]);
    const closing = new Promise<unknown>((resolve) => socket.once("hubwire:close", resolve));
    await hubs.inspect(chat).disconnect(socket.id!);
    expect(await closing).toEqual({ error: "The server's operator ended the connection." });
    await eventually(() => disconnected.length === 1, "onDisconnected");
    expect(disconnected[0]).toEqual({ connectionId: socketId, error: "The server's operator ended the connection." });

    const other = await socketIoClient(url);
    const id = other.id!;
    other.disconnect();
    await eventually(() => disconnected.length === 2, "onDisconnected after the client left");
    expect(disconnected[1]).toEqual({ connectionId: id, error: undefined });
  });

  it("closes a client whose packet is over the limit, and its neighbour carries on", async () => {
    const { url } = await serve({}, { maxHttpBufferSize: 10_000 });
    const neighbour = await socketIoClient(url);
    const flooder = await socketIoClient(url);
    const gone = new Promise<string>((resolve) => flooder.once("disconnect", resolve));
    flooder.emit("note", "x".repeat(20_000));
    expect(await gone).toBe("transport close");
    expect(notes).toEqual([]);
    expect(await neighbour.emitWithAck("add", 20, 22)).toBe(42);
  });

  it("holds a burst of calls while the hub's queue is full and runs them all, in order", async () => {
    const { url } = await serve();
    const socket = await socketIoClient(url);
    socket.emit("hold");
    for (let i = 0; i < 600; i++) socket.emit("note", String(i));
    const last = socket.emitWithAck("add", 0, 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(notes).toEqual([]);
    gate.resolve();
    expect(await last).toBe(0);
    expect(notes).toEqual(Array.from({ length: 600 }, (_, i) => String(i)));
  });

  it("closes a client that floods calls past what the server holds, and its neighbour carries on", async () => {
    const { url } = await serve();
    const neighbour = await socketIoClient(url);
    const flooder = await socketIoClient(url);
    const told = new Promise<unknown>((resolve) => flooder.once("hubwire:close", resolve));
    flooder.emit("hold");
    for (let i = 0; i < 2_000; i++) flooder.emit("note", String(i));
    expect(await told).toEqual({ error: "Connection closed with an error. The client sent more calls than the server could queue." });
    await eventually(() => disconnected.length === 1, "onDisconnected");
    expect(await neighbour.emitWithAck("add", 1, 2)).toBe(3);
  });

  it("serves socket.io's long polling as its WebSockets", async () => {
    const { url, hubs } = await serve();
    const socket = await socketIoClient(url, { transports: ["polling"] });
    const received: string[] = [];
    socket.on("receive", (_from, text) => received.push(text));
    expect(await socket.emitWithAck("add", 4, 5)).toBe(9);
    await hubs.hubContext(chat).clients.all.receive("server", "polled");
    await eventually(() => received.includes("polled"), "the message over long polling");
    expect(((await socket.emitWithAck("fail", "no")) as { error: string }).error).toMatch(/HubException: no$/);
  });

  it("counts socket.io connections and messages in the server's metrics", async () => {
    const recorded: Array<{ instrument: string; value: number; attributes: Attributes }> = [];
    const record =
      (instrument: string) =>
      (value: number, attributes: Attributes = {}) =>
        void recorded.push({ instrument, value, attributes });
    const meter: Meter = Object.assign(Object.create(createNoopMeter()) as Meter, {
      createCounter: (name: string) => ({ add: record(name) }),
      createUpDownCounter: (name: string) => ({ add: record(name) }),
      createHistogram: (name: string) => ({ record: record(name) }),
    });
    const { url } = await serve({ meterProvider: { getMeter: () => meter } });
    const socket = await socketIoClient(url);
    await socket.emitWithAck("add", 1, 2);
    const socketIo = (instrument: string) =>
      recorded.filter((entry) => entry.instrument === instrument && entry.attributes["signalr.transport"] === "socket.io");
    expect(socketIo("signalr.server.active_connections").map((entry) => entry.value)).toEqual([1]);
    expect(recorded.filter((entry) => entry.instrument === "hubwire.server.messages").length).toBe(2); // the call and its answer
    socket.disconnect();
    await eventually(() => socketIo("signalr.server.connection.duration").length === 1, "the connection's duration");
    expect(socketIo("signalr.server.active_connections").map((entry) => entry.value)).toEqual([1, -1]);
  });

  it("tells socket.io clients the server is shutting down, and they reconnect", async () => {
    const { url, hubs } = await serve();
    const socket = await socketIoClient(url, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 });
    const told = new Promise<unknown>((resolve) => socket.once("hubwire:close", resolve));
    const reason = new Promise<string>((resolve) => socket.once("disconnect", resolve));
    await hubs.close({ drainTimeoutMs: 0 });
    expect(await told).toEqual({ error: "The server is shutting down.", allowReconnect: true });
    expect(await reason).toBe("transport close");
    await eventually(() => disconnected.length === 1, "onDisconnected");
  });
});

describe("socket.io clients on two nodes over Redis", () => {
  it("carries groups, users, hubContext sends and client results between a socket.io client on one node and a SignalR client on the other", async () => {
    const prefix = `socketio-${Math.random()}`;
    const backplane = () => redisLifetimeManager({ redis: "redis://127.0.0.1:6379", prefix });
    const a = await serve({ lifetimeManager: backplane(), hubOptions: { clientResultTimeoutMs: 3_000 } });
    const b = await serve({ lifetimeManager: backplane(), hubOptions: { clientResultTimeoutMs: 3_000 } });
    const socket = await socketIoClient(a.url);
    const signalr = await signalRClient(b.url);
    const bySocket: string[] = [];
    const bySignalR: string[] = [];
    socket.on("receive", (from, text) => bySocket.push(`${from}:${text}`));
    signalr.on("receive", (from: string, text: string) => bySignalR.push(`${from}:${text}`));
    socket.on("confirm", (question, ack) => ack(question.endsWith("?")));
    signalr.on("confirm", () => false);

    await socket.emitWithAck("join", "room");
    await signalr.invoke("join", "room");
    await socket.emitWithAck("say", "room", "from a");
    await signalr.invoke("say", "room", "from b");
    // From the other node's hubContext, and to the socket.io client by its id from the SignalR client's node.
    await b.hubs.hubContext(chat).clients.group("room").receive("server b", "to the room");
    await b.hubs.hubContext(chat).clients.client(socket.id!).receive("server b", "to the socket");
    const room = [`${socket.id}:from a`, `${signalr.connectionId}:from b`, "server b:to the room"];
    await eventually(() => bySocket.length === 4 && bySignalR.length === 3, "the messages across nodes", 5_000);
    expect(bySocket).toEqual([...room, "server b:to the socket"]);
    expect(bySignalR).toEqual(room);

    // Client results across nodes, both ways.
    expect(await signalr.invoke("ask", socket.id, "across?")).toBe(true);
    expect(await socket.emitWithAck("ask", signalr.connectionId!, "across?")).toBe(false);
    // The inspection on either node sees both kinds, once the nodes know each other (heartbeats).
    let transports: string[] = [];
    const deadline = Date.now() + 8_000;
    while (transports.length < 2 && Date.now() < deadline) {
      transports = (await b.hubs.inspect(chat).connections({ limit: 10 })).items.map((item) => item.transport).sort();
      if (transports.length < 2) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(transports).toEqual(["WebSockets", "socket.io"]);
  }, 20_000);
});
