/**
 * Every call ends (issue 17): whatever fails on the way from a call to its answer, the caller gets
 * one Completion with SignalR's error text and the server logs what failed, where.
 */

import type { HubContract } from "@hubwire/protocol";
import { HttpTransportType, type HubConnection as OfficialHubConnection } from "@microsoft/signalr";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defineHub, type Logger } from "./index.js";
import { buildOfficialClient, type ProtocolChoice } from "./test-helpers/official-client.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

interface Unwritable extends HubContract {
  server: {
    bigint(): unknown;
    cycle(): unknown;
    deep(levels: number): unknown;
    throwingToJson(): unknown;
    guarded(): string;
    filtered(): string;
    streamBigint(): AsyncIterable<unknown>;
    ok(): string;
  };
  client: object;
}

function nested(levels: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

const hub = defineHub<Unwritable>({
  methods: {
    bigint: () => 10n,
    cycle: () => {
      const cycle: Record<string, unknown> = {};
      cycle["self"] = cycle;
      return cycle;
    },
    deep: (_ctx, levels) => nested(levels),
    throwingToJson: () => ({
      toJSON() {
        throw new Error("toJSON refused");
      },
    }),
    guarded: {
      handler: () => "never",
      authorize: () => {
        throw new Error("the policy store is down");
      },
    },
    filtered: () => "never",
    async *streamBigint() {
      yield 1;
      yield 2n;
      yield 3;
    },
    ok: () => "still here",
  },
  filters: [
    {
      invoke(invocation, next) {
        if (invocation.method === "filtered") throw new Error("the filter broke");
        return next();
      },
    },
  ],
});

type Logged = { level: string; message: string; fields: Record<string, unknown> };

const cases: Array<{ protocol: ProtocolChoice; transport: "WebSockets" | "ServerSentEvents" | "LongPolling" }> = [
  { protocol: "json", transport: "WebSockets" },
  { protocol: "messagepack", transport: "WebSockets" },
  { protocol: "json", transport: "ServerSentEvents" },
  { protocol: "json", transport: "LongPolling" },
  { protocol: "messagepack", transport: "LongPolling" },
];

describe.each(cases)("every call ends, with the official client over $transport, $protocol", ({ protocol, transport }) => {
  let server: RunningServer;
  const logged: Logged[] = [];
  const logger: Logger = { log: (level, message, fields) => logged.push({ level, message, fields: fields ?? {} }) };
  let connection: OfficialHubConnection;

  beforeAll(async () => {
    server = await startServer({ hubs: { "/hub": hub }, logger });
  });
  afterAll(() => server.close());
  afterEach(async () => {
    await connection.stop();
    logged.length = 0;
  });

  async function connect(): Promise<OfficialHubConnection> {
    connection = buildOfficialClient(`${server.origin}/hub`, protocol, { transport: HttpTransportType[transport] }).connection;
    await connection.start();
    return connection;
  }

  /** The log line about `method`, at warning level or above, naming the hub and the connection. */
  function loggedFailure(method: string): Logged | undefined {
    return logged.find(
      (line) =>
        (line.level === "error" || line.level === "warn") &&
        line.fields["method"] === method &&
        line.fields["hub"] === "/hub" &&
        line.fields["connectionId"] === connection.connectionId,
    );
  }

  const unwritable = protocol === "json" ? (["bigint", "cycle", "deep", "throwingToJson"] as const) : (["bigint", "cycle", "deep"] as const);
  for (const method of unwritable) {
    it(`answers a result the protocol cannot write (${method}) with SignalR's error, logs it, and stays open`, async () => {
      const client = await connect();
      const call = method === "deep" ? client.invoke(method, protocol === "json" ? 64 : 100) : client.invoke(method);
      await expect(call).rejects.toThrow(`An unexpected error occurred invoking '${method}' on the server.`);
      expect(loggedFailure(method)?.message).toMatch(/cannot be written/);
      expect(await client.invoke("ok")).toBe("still here");
    });
  }

  it("writes a result nested as deep as the protocol allows", async () => {
    const client = await connect();
    // The Completion is level 1: its result may nest to the protocol's limit less one.
    const levels = protocol === "json" ? 63 : 99;
    expect(await client.invoke("deep", levels)).toEqual(nested(levels));
  });

  it("answers an authorize hook that throws, and a filter that throws, with the generic error", async () => {
    const client = await connect();
    await expect(client.invoke("guarded")).rejects.toThrow("An unexpected error occurred invoking 'guarded' on the server.");
    expect(loggedFailure("guarded")).toBeDefined();
    await expect(client.invoke("filtered")).rejects.toThrow("An unexpected error occurred invoking 'filtered' on the server.");
    expect(loggedFailure("filtered")).toBeDefined();
  });

  it("ends a stream whose item cannot be written with an error Completion, after the items before it", async () => {
    const client = await connect();
    const items: unknown[] = [];
    const ended = new Promise<Error | undefined>((resolve) =>
      client
        .stream("streamBigint")
        .subscribe({ next: (item) => items.push(item), complete: () => resolve(undefined), error: (error) => resolve(error as Error) }),
    );
    expect((await ended)?.message).toBe("An error occurred on the server while streaming results.");
    expect(items).toEqual([1]);
    expect(loggedFailure("streamBigint")).toBeDefined();
  });
});

describe("every call ends: detailed errors", () => {
  it("names the protocol's reason when detailed errors are on", async () => {
    const server = await startServer({ hubs: { "/hub": hub }, hubOptions: { enableDetailedErrors: true } });
    const { connection } = buildOfficialClient(`${server.origin}/hub`, "json");
    try {
      await connection.start();
      await expect(connection.invoke("bigint")).rejects.toThrow(
        /^An unexpected error occurred invoking 'bigint' on the server\. ProtocolError: The message cannot be written as JSON: .*BigInt/,
      );
      await expect(connection.invoke("guarded")).rejects.toThrow(
        "An unexpected error occurred invoking 'guarded' on the server. Error: the policy store is down",
      );
    } finally {
      await connection.stop();
      await server.close();
    }
  });
});
