import { HttpTransportType, type HubConnection as OfficialHubConnection, Subject } from "@microsoft/signalr";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startOnBun } from "./test-helpers/bun-server.js";
import { buildOfficialClient, eventually, type ProtocolChoice } from "./test-helpers/official-client.js";
import { RawHubSocket } from "./test-helpers/raw-client.js";
import { testHub } from "./test-helpers/test-hub.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

const cases: Array<{ protocol: ProtocolChoice; transport: "WebSockets" | "LongPolling" }> = [
  { protocol: "json", transport: "WebSockets" },
  { protocol: "messagepack", transport: "WebSockets" },
  { protocol: "json", transport: "LongPolling" },
];

const runtimes: Array<{ runtime: string; start: () => Promise<{ origin: string; close(): Promise<void> }> }> = [
  { runtime: "Node", start: () => startServer({ hubs: { "/hub": testHub }, hubOptions: { clientResultTimeoutMs: 3_000 } }) },
  { runtime: "Bun", start: () => startOnBun({ hubOptions: { clientResultTimeoutMs: 3_000 } }) },
];

describe.each(runtimes.flatMap((runtime) => cases.map((choice) => ({ ...runtime, ...choice }))))(
  "uploads, streams and client results with the official client on $runtime ($transport, $protocol)",
  ({ protocol, transport, start }) => {
    let server: { origin: string; close(): Promise<void> };
    const opened: OfficialHubConnection[] = [];
    beforeAll(async () => {
      server = await start();
    });
    afterAll(() => server.close());
    afterEach(async () => {
      await Promise.all(opened.map((connection) => connection.stop()));
      opened.length = 0;
    });

    async function connect(): Promise<OfficialHubConnection> {
      const { connection } = buildOfficialClient(`${server.origin}/hub`, protocol, { transport: HttpTransportType[transport] });
      opened.push(connection);
      await connection.start();
      return connection;
    }

    it("receives an upload in order", async () => {
      const connection = await connect();
      const subject = new Subject<number>();
      const result = connection.invoke("sum", subject);
      for (let i = 1; i <= 100; i++) subject.next(i);
      subject.complete();
      expect(await result).toBe(5050);
    });

    it("receives two upload streams in one call", async () => {
      const connection = await connect();
      const first = new Subject<string>();
      const second = new Subject<string>();
      const result = connection.invoke("concat", first, "-", second);
      first.next("a");
      second.next("x");
      first.next("b");
      second.next("y");
      first.complete();
      second.complete();
      expect(await result).toBe("ab-xy");
    });

    it("delivers the items before an upload's error, then the error", async () => {
      const connection = await connect();
      const subject = new Subject<number>();
      const result = connection.invoke("uploadError", subject);
      subject.next(1);
      subject.next(2);
      subject.error(new Error("disk full"));
      expect(await result).toMatch(/^failed after 2: .*disk full/);
    });

    it("streams both ways in one call", async () => {
      const connection = await connect();
      const subject = new Subject<number>();
      const items: number[] = [];
      const done = new Promise<void>((resolve, reject) =>
        connection.stream<number>("doubleEach", subject).subscribe({ next: (item) => items.push(item), complete: resolve, error: reject }),
      );
      for (const value of [1, 2, 3]) subject.next(value);
      subject.complete();
      await done;
      expect(items).toEqual([2, 4, 6]);
    });

    it("ends a stream with the error after the items sent so far", async () => {
      const connection = await connect();
      const items: number[] = [];
      const error = await new Promise<Error>((resolve) =>
        connection
          .stream<number>("failingCounter", 3)
          .subscribe({ next: (item) => items.push(item), complete: () => resolve(new Error("completed")), error: resolve }),
      );
      expect(items).toEqual([0, 1, 2]);
      expect(error.message).toBe("An error occurred on the server while streaming results. HubException: stream broke");
    });

    it("rejects a client result on timeout and on cancellation, and the connection goes on", async () => {
      const connection = await connect();
      connection.on("question", () => new Promise(() => undefined));
      expect(await connection.invoke("askWithin", 100, null)).toBe("The client did not answer 'question' within 100 ms.");
      expect(await connection.invoke("askWithin", 5_000, 50)).toBe("The client result for 'question' was cancelled.");
      expect(await connection.invoke("echo", "alive")).toBe("alive");
    });

    it("gets client results: a value, a Promise, a thrown error, no handler", async () => {
      const connection = await connect();
      let mode: "value" | "promise" | "throw" = "value";
      connection.on("question", (text: string) => {
        if (mode === "value") return `sync ${text}`;
        if (mode === "promise") return new Promise((resolve) => setTimeout(() => resolve({ text, later: true }), 10));
        throw new Error("not telling");
      });
      expect(await connection.invoke("askAndExplain", "a")).toBe('answer: "sync a"');
      mode = "promise";
      expect(await connection.invoke("askAndExplain", "b")).toBe('answer: {"text":"b","later":true}');
      mode = "throw";
      expect(await connection.invoke("askAndExplain", "c")).toBe("ClientResultError (HUBWIRE_CLIENT_RESULT_FAILED): Error: not telling");
      connection.off("question");
      expect(await connection.invoke("askAndExplain", "d")).toBe("ClientResultError (HUBWIRE_CLIENT_RESULT_FAILED): Client didn't provide a result.");
    });
  },
);

describe("uploads over raw WebSockets", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ hubs: { "/hub": testHub }, hubOptions: { streamBufferCapacity: 4, maxUploadStreamsPerConnection: 3 } });
  });
  afterAll(() => server.close());

  async function connected(): Promise<RawHubSocket> {
    const socket = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub`);
    socket.send('{"protocol":"json","version":1}\u001e');
    await eventually(() => socket.records.length > 0);
    return socket;
  }
  const completion = (socket: RawHubSocket, id: string) =>
    socket.records.find(
      (record) => (record as { type: number; invocationId?: string }).type === 3 && (record as { invocationId?: string }).invocationId === id,
    ) as { result?: unknown; error?: string } | undefined;

  it("ignores items and completions for unknown streams, and items after a stream's end", async () => {
    const socket = await connected();
    socket.send('{"type":2,"invocationId":"nope","item":1}\u001e{"type":3,"invocationId":"nope"}\u001e');
    socket.send('{"type":1,"invocationId":"1","target":"sum","arguments":[],"streamIds":["s"]}\u001e');
    socket.send('{"type":2,"invocationId":"s","item":5}\u001e{"type":3,"invocationId":"s"}\u001e{"type":2,"invocationId":"s","item":100}\u001e');
    await eventually(() => completion(socket, "1") !== undefined);
    expect(completion(socket, "1")).toEqual({ type: 3, invocationId: "1", result: 5 });
    socket.close();
  });

  it("refuses more upload streams than allowed, and a stream id used twice", async () => {
    const socket = await connected();
    const ids = Array.from({ length: 1_000 }, (_, i) => `"x${i}"`).join(",");
    socket.send(`{"type":1,"invocationId":"1","target":"sum","arguments":[],"streamIds":[${ids}]}\u001e`);
    socket.send('{"type":1,"invocationId":"2","target":"concat","arguments":["-"],"streamIds":["d","d"]}\u001e');
    await eventually(() => completion(socket, "1") !== undefined && completion(socket, "2") !== undefined);
    expect(completion(socket, "1")?.error).toBe("Failed to invoke 'sum' due to an error on the server.");
    expect(completion(socket, "2")?.error).toBe("Failed to invoke 'concat' due to an error on the server.");
    socket.send('{"type":1,"invocationId":"3","target":"echo","arguments":["alive"]}\u001e');
    await eventually(() => completion(socket, "3") !== undefined);
    socket.close();
  });

  it("stops reading while an upload's buffer is full, and loses nothing", async () => {
    const socket = await connected();
    socket.send('{"type":1,"invocationId":"1","target":"slowSum","arguments":[5],"streamIds":["s"]}\u001e');
    let expected = 0;
    for (let i = 1; i <= 200; i++) {
      expected += i;
      socket.send(`{"type":2,"invocationId":"s","item":${i}}\u001e`);
    }
    socket.send('{"type":3,"invocationId":"s"}\u001e');
    await eventually(() => completion(socket, "1") !== undefined, 10_000, "the slow sum");
    expect(completion(socket, "1")?.result).toBe(expected);
    socket.close();
  });
});
