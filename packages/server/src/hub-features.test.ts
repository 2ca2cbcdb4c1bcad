import type { HubContract } from "@hubwire/protocol";
import type { HubConnection as OfficialHubConnection } from "@microsoft/signalr";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defineHub, type HubFilter, type Logger } from "./index.js";
import { buildOfficialClient, eventually } from "./test-helpers/official-client.js";
import { testHub } from "./test-helpers/test-hub.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

interface LifecycleContract extends HubContract {
  server: { getItem(): string; ping(): string; describe(): string; itemStream(): AsyncIterable<string>; leave(): void };
  client: { welcome(text: string): void; left(connectionId: string): void };
}

const events: string[] = [];
const lines: string[] = [];

const lifecycleHub = defineHub<LifecycleContract>({
  name: "lifecycle",
  methods: {
    getItem: (ctx) => String(ctx.items.get("greeting")),
    ping: () => "pong",
    // The context may be taken apart, as with an object: its parts are getters, close is a function.
    describe: ({ connectionId, items, userId, signal }) => `${connectionId}:${String(items.get("greeting"))}:${userId}:${signal.aborted}`,
    async *itemStream(ctx) {
      yield String(ctx.items.get("greeting"));
      yield `${ctx.connectionId}:${ctx.signal.aborted}`;
    },
    leave: ({ close }) => close({ error: "bye" }),
  },
  async onConnected(ctx) {
    ctx.items.set("greeting", `hello ${ctx.connectionId}`);
    await ctx.groups.add(ctx.connectionId, "everyone");
    await ctx.clients.caller.welcome("welcome");
    events.push(`connected:${ctx.connectionId}`);
  },
  async onDisconnected(ctx, error) {
    events.push(`disconnected:${ctx.connectionId}:${error === undefined ? "clean" : "error"}:${ctx.signal.aborted}`);
    await ctx.clients.othersInGroup("everyone").left(ctx.connectionId);
  },
  filters: [
    {
      async invoke(invocation, next) {
        events.push(`hub-filter:${invocation.method}`);
        return next();
      },
    },
  ],
});

const serverFilter: HubFilter = {
  async invoke(invocation, next) {
    events.push(`server-filter:${invocation.hub}:${invocation.method}`);
    const result = await next();
    return invocation.method === "ping" ? `${String(result)}!` : result;
  },
  async onConnected(context, next) {
    events.push(`server-filter:connected:${context.connectionId}`);
    await next();
  },
};

const canary = "canary-token-5f1e9a";
const logger: Logger = {
  log: (level, message, fields) => lines.push(`${level} ${message} ${JSON.stringify(fields, (_k, v) => (v instanceof Error ? v.message : v))}`),
};

describe("hub features", () => {
  let server: RunningServer;
  const opened: OfficialHubConnection[] = [];

  beforeAll(async () => {
    server = await startServer({
      hubs: { "/lifecycle": lifecycleHub, "/test": testHub },
      filters: [serverFilter],
      logger,
      authenticate: ({ accessToken }) => (accessToken === undefined ? undefined : { userId: "u1" }),
      hubOptions: { clientResultTimeoutMs: 2_000 },
    });
  });
  afterAll(() => server.close());
  afterEach(async () => {
    await Promise.all(opened.map((connection) => connection.stop()));
    opened.length = 0;
  });

  async function connect(path: string, protocol: "json" | "messagepack" = "json", options = {}) {
    const { connection } = buildOfficialClient(`${server.origin}${path}`, protocol, options);
    opened.push(connection);
    return connection;
  }

  it("runs onConnected before any invocation, keeps items, and onDisconnected after the close", async () => {
    const connection = await connect("/lifecycle");
    const welcomed: string[] = [];
    connection.on("welcome", (text: string) => welcomed.push(text));
    await connection.start();
    const id = connection.connectionId!;
    expect(await connection.invoke("getItem")).toBe(`hello ${id}`);
    expect(welcomed).toEqual(["welcome"]);
    expect(events).toContain(`connected:${id}`);
    expect(events.indexOf(`server-filter:connected:${id}`)).toBeLessThan(events.indexOf(`connected:${id}`));
    await connection.stop();
    await eventually(() => events.some((event) => event.startsWith(`disconnected:${id}`)));
    expect(events).toContain(`disconnected:${id}:clean:true`);
  });

  it("gives a stream call the connection's context with its own signal, and survives destructuring", async () => {
    const connection = await connect("/lifecycle");
    await connection.start();
    const id = connection.connectionId!;
    expect(await connection.invoke("describe")).toBe(`${id}:hello ${id}:undefined:false`);
    const items: string[] = [];
    await new Promise<void>((resolve, reject) =>
      connection.stream<string>("itemStream").subscribe({ next: (item) => items.push(item), complete: resolve, error: reject }),
    );
    expect(items).toEqual([`hello ${id}`, `${id}:false`]);
    const closed = new Promise<Error | undefined>((resolve) => connection.onclose(resolve));
    await connection.send("leave");
    expect((await closed)?.message).toContain("bye");
  });

  it("lets onDisconnected still reach the group the connection was in", async () => {
    const watcher = await connect("/lifecycle");
    const leaving = await connect("/lifecycle");
    const left: string[] = [];
    watcher.on("left", (id: string) => left.push(id));
    await watcher.start();
    await leaving.start();
    const leavingId = leaving.connectionId!;
    await leaving.stop();
    await eventually(() => left.includes(leavingId));
  });

  it("runs server filters outside hub filters, and a filter may change the result", async () => {
    const connection = await connect("/lifecycle");
    await connection.start();
    events.length = 0;
    expect(await connection.invoke("ping")).toBe("pong!");
    expect(events).toEqual(["server-filter:lifecycle:ping", "hub-filter:ping"]);
  });

  it("serves several hubs on one server, each with its own connections", async () => {
    const a = await connect("/lifecycle");
    const b = await connect("/test");
    await a.start();
    await b.start();
    expect(await a.invoke("ping")).toBe("pong!");
    expect(await b.invoke("echo", 5)).toBe(5);
    await expect(a.invoke("echo", 5)).rejects.toThrow("Method does not exist.");
  });

  for (const protocol of ["json", "messagepack"] as const) {
    it(`streams items to the official client, in order, then completes (${protocol})`, async () => {
      const connection = await connect("/test", protocol);
      await connection.start();
      const items: number[] = [];
      await new Promise<void>((resolve, reject) => {
        connection.stream<number>("counter", 5, 1).subscribe({ next: (item) => items.push(item), complete: resolve, error: reject });
      });
      expect(items).toEqual([0, 1, 2, 3, 4]);
    });

    it(`awaits a client result from the official client (${protocol})`, async () => {
      const connection = await connect("/test", protocol);
      connection.on("question", (text: string) => `answer to ${text}`);
      await connection.start();
      expect(await connection.invoke("askClient", "life")).toBe("answer to life");
    });
  }

  it("stops the server's producer when the client cancels a stream", async () => {
    const connection = await connect("/test");
    await connection.start();
    const items: number[] = [];
    const subscription = connection.stream<number>("counter", 1_000, 20).subscribe({
      next: (item) => items.push(item),
      complete: () => undefined,
      error: () => undefined,
    });
    await eventually(() => items.length >= 3);
    subscription.dispose();
    const countAtCancel = items.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(items.length).toBeLessThanOrEqual(countAtCancel + 1);
    expect(await connection.invoke("echo", "still fine")).toBe("still fine");
  });

  it("reports a client that has no handler for a client result", async () => {
    const connection = await connect("/test");
    await connection.start();
    await expect(connection.invoke("askClient", "x")).rejects.toThrow("An unexpected error occurred invoking 'askClient' on the server.");
  });

  it("runs one invocation at a time per connection by default, more when configured", async () => {
    const serial = await connect("/test");
    await serial.start();
    const results = await Promise.all([serial.invoke("sleep", 50), serial.invoke("sleep", 50), serial.invoke("sleep", 50)]);
    expect(Math.max(...results.map((result: { maxConcurrent: number }) => result.maxConcurrent))).toBe(1);

    const parallel = await startServer({ hubs: { "/test": testHub }, hubOptions: { maxParallelInvocationsPerClient: 3 } });
    try {
      const { connection } = buildOfficialClient(`${parallel.origin}/test`, "json");
      await connection.start();
      const concurrent = await Promise.all([connection.invoke("sleep", 80), connection.invoke("sleep", 80), connection.invoke("sleep", 80)]);
      expect(Math.max(...concurrent.map((result: { maxConcurrent: number }) => result.maxConcurrent))).toBe(3);
      await connection.stop();
    } finally {
      await parallel.close();
    }
  });

  it("refuses negotiate and connect with 401 when authentication is required and missing, 403 when the hub says no", async () => {
    const guarded = defineHub<LifecycleContract>({
      methods: { getItem: () => "", ping: () => "", describe: () => "", itemStream: async function* () {}, leave: () => undefined },
      options: { requireAuthentication: true },
      authorize: (principal) => principal?.userId === "u1",
    });
    const secured = await startServer({
      hubs: { "/guarded": guarded },
      authenticate: ({ accessToken }) => (accessToken === undefined ? undefined : { userId: accessToken }),
    });
    try {
      const negotiate = (token?: string) =>
        fetch(`${secured.origin}/guarded/negotiate?negotiateVersion=1`, {
          method: "POST",
          headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
        });
      expect((await negotiate()).status).toBe(401);
      expect((await negotiate("u2")).status).toBe(403);
      expect((await negotiate("u1")).status).toBe(200);
      const { connection } = buildOfficialClient(`${secured.origin}/guarded`, "json", { skipNegotiation: true, accessTokenFactory: () => "u2" });
      await expect(connection.start()).rejects.toThrow();
      const { connection: allowed } = buildOfficialClient(`${secured.origin}/guarded`, "json", { accessTokenFactory: () => "u1" });
      await allowed.start();
      expect(await allowed.invoke("ping")).toBe("");
      await allowed.stop();
    } finally {
      await secured.close();
    }
  });

  it("never writes an access token into a log line", async () => {
    lines.length = 0;
    const connection = await connect("/test", "json", { accessTokenFactory: () => canary });
    await connection.start();
    await connection.invoke("throwPlain", "boom").catch(() => undefined);
    await connection.invoke("noSuchMethod").catch(() => undefined);
    await connection.stop();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("\n")).not.toContain(canary);
  });
});
