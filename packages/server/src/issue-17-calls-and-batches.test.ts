/**
 * Off the happy path, exactly as ASP.NET Core (issue 17): refused arguments fail their own call,
 * records that arrive together run in order up to a bad one, streams are declared, and an upload
 * the client fails reaches the caller as a HubException.
 */

import type { HubContract } from "@hubwire/protocol";
import { writeBinaryRecord } from "@hubwire/protocol-msgpack";
import { HttpTransportType, Subject } from "@microsoft/signalr";
import { encode } from "@msgpack/msgpack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineHub, type HubCallContext } from "./index.js";
import { buildOfficialClient, eventually, type ProtocolChoice } from "./test-helpers/official-client.js";
import { negotiate, RawHubSocket } from "./test-helpers/raw-client.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

interface Calls extends HubContract {
  server: {
    echo(value: unknown): unknown;
    record(value: number): number;
    ticks(count: number): AsyncIterable<number>;
    declaredTicks(count: number): AsyncIterable<number>;
    total(items: AsyncIterable<number>): number;
    calls(): number[];
  };
  client: object;
}

/** What each connection's calls ran with (record's values), to show a refused call never ran. */
const ran = new Map<string, number[]>();
const runs = (ctx: HubCallContext<Calls>) => ran.get(ctx.connectionId) ?? ran.set(ctx.connectionId, []).get(ctx.connectionId)!;

const hub = defineHub<Calls>({
  methods: {
    echo: (_ctx, value) => value,
    record: (ctx, value) => {
      runs(ctx).push(value);
      return value;
    },
    async *ticks(ctx, count) {
      runs(ctx).push(-1);
      for (let i = 0; i < count; i++) yield i;
    },
    declaredTicks: {
      stream: true,
      handler: (ctx, count) => {
        runs(ctx).push(-2);
        return (async function* () {
          for (let i = 0; i < count; i++) yield i;
        })();
      },
    },
    total: {
      args: ["stream"],
      async handler(_ctx, items) {
        let sum = 0;
        for await (const item of items) sum += item;
        return sum;
      },
    },
    calls: (ctx) => runs(ctx),
  },
});

const jsonHandshake = '{"protocol":"json","version":1}\u001e';
const record = (value: object) => `${JSON.stringify(value)}\u001e`;
const nestedJson = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

/** A raw JSON connection over WebSockets, past its handshake. */
async function openJson(origin: string): Promise<RawHubSocket> {
  const { body } = await negotiate(origin, "/hub");
  const socket = await RawHubSocket.open(`${origin.replace("http", "ws")}/hub?id=${body.connectionToken}`);
  socket.send(jsonHandshake);
  await eventually(() => socket.records.length >= 1, 2_000, "the handshake answer");
  return socket;
}

/** The records after the handshake answer, once `count` have arrived. */
async function recordsAfterHandshake(socket: RawHubSocket, count: number): Promise<Array<Record<string, unknown>>> {
  await eventually(() => socket.records.length >= count + 1, 3_000, `${count} records`);
  return socket.records.slice(1) as Array<Record<string, unknown>>;
}

describe("refused arguments fail their own call, and the connection reads on", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ hubs: { "/hub": hub } });
  });
  afterAll(() => server.close());

  it("answers arguments nested past 64 levels, or a __proto__ key in them, with a binding failure, then the next call", async () => {
    const socket = await openJson(server.origin);
    // 62 levels inside the arguments array, with the message and the array, make 64: they bind.
    socket.send(`{"type":1,"invocationId":"1","target":"echo","arguments":[${nestedJson(62)}]}\u001e`);
    socket.send(`{"type":1,"invocationId":"2","target":"echo","arguments":[${nestedJson(63)}]}\u001e`);
    socket.send('{"type":1,"invocationId":"3","target":"Echo","arguments":[{"a":{"__proto__":{"polluted":true}}}]}\u001e');
    socket.send(record({ type: 1, invocationId: "4", target: "echo", arguments: ["after"] }));
    const [first, tooDeep, proto, after] = await recordsAfterHandshake(socket, 4);
    expect(first).toMatchObject({ type: 3, invocationId: "1" });
    expect(first?.["error"]).toBeUndefined();
    expect(tooDeep).toEqual({ type: 3, invocationId: "2", error: "Failed to invoke 'echo' due to an error on the server." });
    expect(proto).toEqual({ type: 3, invocationId: "3", error: "Failed to invoke 'echo' due to an error on the server." });
    expect(after).toEqual({ type: 3, invocationId: "4", result: "after" });
    expect(socket.closed).toBeUndefined();
    socket.close();
  });

  it("names the reason with detailed errors on", async () => {
    const detailed = await startServer({ hubs: { "/hub": hub }, hubOptions: { enableDetailedErrors: true } });
    try {
      const socket = await openJson(detailed.origin);
      socket.send(`{"type":1,"invocationId":"1","target":"echo","arguments":[${nestedJson(63)}]}\u001e`);
      const [answer] = await recordsAfterHandshake(socket, 1);
      expect(answer?.["error"]).toBe("Failed to invoke 'echo' due to an error on the server. InvalidDataException: The message nests deeper than 64 levels.");
      socket.close();
    } finally {
      await detailed.close();
    }
  });

  it("answers the same with MessagePack, past its own limit (100 levels)", async () => {
    const { body } = await negotiate(server.origin, "/hub");
    const socket = await RawHubSocket.open(`${server.origin.replace("http", "ws")}/hub?id=${body.connectionToken}`);
    socket.send('{"protocol":"messagepack","version":1}\u001e');
    await eventually(() => socket.frames.length >= 1, 2_000, "the handshake answer");
    let deep: unknown = 1;
    for (let i = 0; i < 99; i++) deep = [deep];
    // The message, its arguments and 99 more: 101 levels.
    socket.send(writeBinaryRecord(encode([1, {}, "1", "echo", [deep]], { maxDepth: 1_000 })));
    socket.send(writeBinaryRecord(encode([1, {}, "2", "echo", ["after"]])));
    const expected = [
      ...writeBinaryRecord(encode([3, {}, "1", 1, "Failed to invoke 'echo' due to an error on the server."])),
      ...writeBinaryRecord(encode([3, {}, "2", 3, "after"])),
    ];
    const answers = () => Buffer.concat(socket.frames.slice(1).map((frame) => frame.data));
    await eventually(() => answers().length >= expected.length, 2_000, "two answers");
    expect([...answers()]).toEqual(expected);
    socket.close();
  });

  it("ends an upload whose item cannot be read, and the call that reads it fails with SignalR's text", async () => {
    const socket = await openJson(server.origin);
    socket.send(record({ type: 1, invocationId: "1", target: "total", arguments: [], streamIds: ["s"] }));
    socket.send(record({ type: 2, invocationId: "s", item: 1 }));
    socket.send(`{"type":2,"invocationId":"s","item":${nestedJson(70)}}\u001e`);
    const [answer] = await recordsAfterHandshake(socket, 1);
    expect(answer).toEqual({
      type: 3,
      invocationId: "1",
      error: "An unexpected error occurred invoking 'total' on the server. HubException: Failed to bind Stream message.",
    });
    socket.close();
  });
});

describe("records that arrive together run in order up to a bad one", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ hubs: { "/hub": hub } });
  });
  afterAll(() => server.close());

  const calls = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, index) =>
      record({ type: 1, invocationId: String(from + index), target: "record", arguments: [from + index] }),
    ).join("");

  it("answers the calls before a malformed record in one WebSocket message, then closes with the error", async () => {
    const socket = await openJson(server.origin);
    socket.send(`${calls(1, 3)}{not json}\u001e${calls(4, 5)}`);
    await eventually(() => socket.closed !== undefined, 3_000, "the close");
    const records = socket.records.slice(1) as Array<Record<string, unknown>>;
    expect(records).toEqual([
      { type: 3, invocationId: "1", result: 1 },
      { type: 3, invocationId: "2", result: 2 },
      { type: 3, invocationId: "3", result: 3 },
      { type: 7, error: "Connection closed with an error.", allowReconnect: true },
    ]);
    expect(socket.closed?.code).toBe(1000);
  });

  it("does the same for records that arrive in one long-polling POST", async () => {
    const { body } = await negotiate(server.origin, "/hub");
    const url = `${server.origin}/hub?id=${body.connectionToken}`;
    expect((await fetch(url)).status).toBe(200);
    await fetch(url, { method: "POST", body: jsonHandshake });
    await fetch(url, { method: "POST", body: `${calls(1, 2)}{"type":1,"target":5,"arguments":[]}\u001e${calls(3, 3)}` });
    let text = "";
    for (let poll = 0; poll < 5 && !text.includes('"type":7'); poll++) text += await (await fetch(url)).text();
    const records = text
      .split("\u001e")
      .filter(Boolean)
      .map((part) => JSON.parse(part));
    expect(records.slice(1)).toEqual([
      { type: 3, invocationId: "1", result: 1 },
      { type: 3, invocationId: "2", result: 2 },
      { type: 7, error: "Connection closed with an error.", allowReconnect: true },
    ]);
  });

  it("does the same with MessagePack: a bad length prefix after two calls", async () => {
    const { body } = await negotiate(server.origin, "/hub");
    const socket = await RawHubSocket.open(`${server.origin.replace("http", "ws")}/hub?id=${body.connectionToken}`);
    socket.send('{"protocol":"messagepack","version":1}\u001e');
    await eventually(() => socket.frames.length >= 1, 2_000, "the handshake answer");
    const call = (id: number) => writeBinaryRecord(encode([1, {}, String(id), "record", [id]]));
    socket.send(Buffer.concat([call(1), call(2), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), call(3)]));
    await eventually(() => socket.closed !== undefined, 3_000, "the close");
    const bytes = Buffer.concat(socket.frames.slice(1).map((frame) => frame.data));
    // Two Completions ([3, {}, id, 3, id]), then the Close ([7, error, true]).
    expect([...bytes]).toEqual([
      ...writeBinaryRecord(encode([3, {}, "1", 3, 1])),
      ...writeBinaryRecord(encode([3, {}, "2", 3, 2])),
      ...writeBinaryRecord(encode([7, "Connection closed with an error.", true])),
    ]);
  });
});

const cases: Array<{ protocol: ProtocolChoice; transport: "WebSockets" | "LongPolling" | "ServerSentEvents" }> = [
  { protocol: "json", transport: "WebSockets" },
  { protocol: "messagepack", transport: "WebSockets" },
  { protocol: "json", transport: "ServerSentEvents" },
  { protocol: "messagepack", transport: "LongPolling" },
];

describe.each(cases)("streams declared, with the official client over $transport, $protocol", ({ protocol, transport }) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ hubs: { "/hub": hub } });
  });
  afterAll(() => server.close());

  async function connect() {
    const { connection } = buildOfficialClient(`${server.origin}/hub`, protocol, { transport: HttpTransportType[transport] });
    await connection.start();
    return connection;
  }

  it("refuses an Invocation of a streaming method and a stream of a plain one with ASP.NET's texts, before they run", async () => {
    const connection = await connect();
    try {
      await expect(connection.invoke("TICKS", 2)).rejects.toThrow(
        /^The client attempted to invoke the streaming 'ticks' method with a non-streaming invocation\.$/,
      );
      await expect(connection.invoke("declaredTicks", 2)).rejects.toThrow(
        /^The client attempted to invoke the streaming 'declaredTicks' method with a non-streaming invocation\.$/,
      );
      const refused = await new Promise<Error>((resolve) =>
        connection
          .stream("record", 7)
          .subscribe({ next: () => undefined, complete: () => resolve(new Error("completed")), error: (error) => resolve(error as Error) }),
      );
      expect(refused.message).toBe("The client attempted to invoke the non-streaming 'record' method with a streaming invocation.");
      expect(await connection.invoke("calls")).toEqual([]);
      const items: number[] = [];
      await new Promise<void>((resolve, reject) =>
        connection.stream("declaredTicks", 3).subscribe({ next: (item) => items.push(item as number), complete: resolve, error: reject }),
      );
      expect(items).toEqual([0, 1, 2]);
    } finally {
      await connection.stop();
    }
  });

  it("ends an upload the client fails, and the caller reads the client's words as a HubException", async () => {
    const connection = await connect();
    try {
      const subject = new Subject<number>();
      const call = connection.invoke("total", subject);
      subject.next(1);
      subject.error(new Error("the sensor went away"));
      await expect(call).rejects.toThrow(/^An unexpected error occurred invoking 'total' on the server\. HubException: the sensor went away$/);
    } finally {
      await connection.stop();
    }
  });
});

describe("a stream's id already in use", () => {
  it("is refused with .NET's text, and the stream that holds it goes on", async () => {
    const server = await startServer({
      hubs: {
        "/hub": defineHub<{ server: { slow(): AsyncIterable<number> }; client: object }>({
          methods: {
            async *slow(ctx) {
              yield 1;
              await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
            },
          },
        }),
      },
    });
    try {
      const socket = await openJson(server.origin);
      socket.send(record({ type: 4, invocationId: "s", target: "slow", arguments: [] }));
      await recordsAfterHandshake(socket, 1);
      socket.send(record({ type: 4, invocationId: "s", target: "slow", arguments: [] }));
      socket.send(record({ type: 5, invocationId: "s" }));
      const records = await recordsAfterHandshake(socket, 3);
      expect(records).toEqual([
        { type: 2, invocationId: "s", item: 1 },
        { type: 3, invocationId: "s", error: "Invocation ID 's' is already in use." },
        // Cancelled by the client: a plain Completion, as .NET ends a cancelled stream.
        { type: 3, invocationId: "s" },
      ]);
      socket.close();
    } finally {
      await server.close();
    }
  });
});
