import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ConnectionClosedError, HubConnection, type HubConnectionOptions, HubError, type TransportName } from "./index.js";
import { MessagePackHubProtocol } from "./msgpack.js";
import type { TestContract } from "./test-helpers/contract.js";
import { eventually, startTestServer, type TestServer } from "./test-helpers/test-server.js";

const cases: Array<{ transport: TransportName; protocol: "json" | "messagepack" }> = [
  { transport: "WebSockets", protocol: "json" },
  { transport: "WebSockets", protocol: "messagepack" },
  { transport: "ServerSentEvents", protocol: "json" },
  { transport: "LongPolling", protocol: "json" },
  { transport: "LongPolling", protocol: "messagepack" },
];

describe.each(cases)("HubConnection against a Hubwire server over $transport ($protocol)", ({ transport, protocol }) => {
  let server: TestServer;
  const opened: Array<HubConnection<TestContract>> = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((connection) => connection.stop()));
  });

  async function connect(options: HubConnectionOptions = {}): Promise<HubConnection<TestContract>> {
    const connection = new HubConnection<TestContract>(server.url, {
      transports: [transport],
      WebSocket: WebSocket,
      ...(protocol === "messagepack" ? { protocol: new MessagePackHubProtocol() } : {}),
      ...options,
    });
    opened.push(connection);
    await connection.start();
    return connection;
  }

  it("connects over the transport asked for and gets results of every JSON type", async () => {
    const connection = await connect();
    expect(connection.transport).toBe(transport);
    expect(connection.state).toBe("Connected");
    expect(connection.connectionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    for (const value of [0, false, "", null, "héllo 😀", [1, [2]], { a: { b: null } }]) {
      expect(await connection.invoke("echo", value)).toEqual(value);
    }
    expect(await connection.invoke("add", 2, 3)).toBe(5);
    expect(await connection.invoke("nothing")).toBeUndefined();
  });

  it("reads a message larger than a server's 32 KB receive limit", async () => {
    const connection = await connect();
    expect((await connection.invoke("large", 200_000)).length).toBe(200_000);
    expect(await connection.invoke("add", 1, 1)).toBe(2);
  });

  it("rejects with the server's error as a HubError", async () => {
    const connection = await connect();
    const error = await connection.invoke("fail", "nope").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HubError);
    expect(error).toMatchObject({ name: "HubError", code: "HUBWIRE_SERVER_ERROR" });
    expect((error as Error).message).toBe("An unexpected error occurred invoking 'fail' on the server. HubException: nope");
  });

  it("reaches the right clients through targets and groups", async () => {
    const a = await connect();
    const b = await connect();
    const c = await connect();
    const inboxes = [a, b, c].map((connection) => {
      const inbox: string[] = [];
      connection.on("receive", (text) => void inbox.push(text));
      return inbox;
    });
    await a.invoke("join", "red");
    await c.invoke("join", "red");
    await b.invoke("toGroup", "red", "to red");
    await a.invoke("toOthers", "from a");
    await a.invoke("toAll", "marker");
    await eventually(() => inboxes.every((inbox) => inbox.includes("marker")));
    expect(inboxes.map((inbox) => inbox.filter((text) => text !== "marker"))).toEqual([["to red"], ["from a"], ["to red", "from a"]]);
  });

  it("sends without waiting for an answer", async () => {
    const connection = await connect();
    const inbox: string[] = [];
    connection.on("receive", (text) => void inbox.push(text));
    await connection.send("toAll", "sent");
    await eventually(() => inbox.includes("sent"));
  });

  it("streams from the server as an async iterable, with the error after the items", async () => {
    const connection = await connect();
    const items: number[] = [];
    for await (const item of connection.stream("counter", 5, 1)) items.push(item);
    expect(items).toEqual([0, 1, 2, 3, 4]);
    const seen: number[] = [];
    const error = await (async () => {
      for await (const item of connection.stream("failingCounter", 3)) seen.push(item);
    })().catch((caught: unknown) => caught);
    expect(seen).toEqual([0, 1, 2]);
    expect((error as Error).message).toBe("An error occurred on the server while streaming results. HubException: stream broke");
  });

  it("cancels a stream with an AbortSignal, and by breaking out of the loop", async () => {
    const connection = await connect();
    const controller = new AbortController();
    const items: number[] = [];
    for await (const item of connection.streamWith({ signal: controller.signal }, "counter", 1_000, 10)) {
      items.push(item);
      if (items.length === 3) controller.abort();
    }
    expect(items).toEqual([0, 1, 2]);
    for await (const item of connection.stream("counter", 1_000, 10)) if (item === 2) break;
    expect(await connection.invoke("echo", "still connected")).toBe("still connected");
  });

  it("uploads an async iterable as a stream", async () => {
    const connection = await connect();
    async function* numbers() {
      for (let i = 1; i <= 50; i++) yield i;
    }
    expect(await connection.invoke("sum", numbers())).toBe(1275);
  });

  it("answers the server's client-result calls from a handler, sync or async", async () => {
    const connection = await connect();
    connection.on("question", async (text) => `answer to ${text}`);
    expect(await connection.invoke("ask", "life")).toBe("answer to life");
    connection.off("question");
    await expect(connection.invoke("ask", "x")).rejects.toThrow("An unexpected error occurred invoking 'ask' on the server.");
  });

  it("rejects an invocation that times out, and every pending call when the connection closes", async () => {
    const connection = await connect();
    connection.on("question", () => new Promise<string>(() => undefined));
    await expect(connection.invokeWith({ timeoutMs: 50 }, "ask", "nobody answers")).rejects.toThrow("within 50 ms");
    const controller = new AbortController();
    const aborted = connection.invokeWith({ signal: controller.signal }, "ask", "cancelled");
    controller.abort();
    await expect(aborted).rejects.toThrow("The call of 'ask' was aborted.");
    // A signal aborted before the call rejects it at once, as fetch does.
    await expect(connection.invokeWith({ signal: AbortSignal.abort() }, "echo", 1)).rejects.toThrow("was aborted");
    const pending = connection.invoke("ask", "never").then(
      () => "resolved",
      (error: unknown) => error,
    );
    await connection.stop();
    expect(await pending).toBeInstanceOf(ConnectionClosedError);
    await expect(connection.invoke("echo", 1)).rejects.toMatchObject({ name: "ConnectionClosedError", code: "HUBWIRE_CONNECTION_CLOSED" });
  });

  it("reconnects automatically when the server closes with allowReconnect", async () => {
    const connection = await connect({ reconnect: [0, 50, 100] });
    const first = connection.connectionId;
    const events: string[] = [];
    connection.onReconnecting((error) => void events.push(`reconnecting: ${error?.message}`));
    const reconnected = new Promise<string | null>((resolve) => connection.onReconnected(resolve));
    await connection.invoke("closeMe", true);
    const id = await reconnected;
    expect(events).toEqual(["reconnecting: Server returned an error on close: Closed by the test."]);
    expect(id).not.toBe(first);
    expect(await connection.invoke("echo", "back")).toBe("back");
  });

  it("closes for good with the server's error when the Close does not allow reconnecting", async () => {
    const connection = await connect({ reconnect: true });
    const closed = new Promise<Error | undefined>((resolve) => connection.onClose(resolve));
    await connection.invoke("closeMe", false);
    expect((await closed)?.message).toBe("Server returned an error on close: Closed by the test.");
    expect(connection.state).toBe("Disconnected");
  });
});

describe("HubConnection start failures", () => {
  it("refuses statefulReconnect given as anything but the add-on's statefulReconnect()", () => {
    const options = { statefulReconnect: true } as unknown as HubConnectionOptions;
    expect(() => new HubConnection<TestContract>("http://127.0.0.1:1/hub", options)).toThrow(
      "The statefulReconnect option takes statefulReconnect() from '@hubwire/client/stateful-reconnect'.",
    );
  });

  it("reports the server's handshake error", async () => {
    const server = await startTestServer({ hubOptions: { protocols: ["json"] } });
    try {
      const connection = new HubConnection<TestContract>(server.url, {
        WebSocket: WebSocket,
        protocol: new MessagePackHubProtocol(),
      });
      await expect(connection.start()).rejects.toThrow("Server returned handshake error: The protocol 'messagepack' is not supported.");
      expect(connection.state).toBe("Disconnected");
    } finally {
      await server.close();
    }
  });

  it("names every transport that failed when none connects", async () => {
    const server = await startTestServer({ hubOptions: { transports: ["LongPolling"] } });
    try {
      const connection = new HubConnection<TestContract>(server.url, { WebSocket: WebSocket, transports: ["WebSockets"] });
      await expect(connection.start()).rejects.toThrow("Unable to connect to the server with any of the available transports.");
    } finally {
      await server.close();
    }
  });
});

// Node 20 has no global WebSocket: the package's Node entry loads ws, as @microsoft/signalr does.
// Run in a child process that imports the package by name, as an application would.
describe("HubConnection in Node without a global WebSocket", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  async function runScript(script: string): Promise<string> {
    const { execFile } = await import("node:child_process");
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        ["--input-type=module", "-e", script],
        { cwd: fileURLToPath(new URL("..", import.meta.url)), timeout: 30_000 },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.trim())),
      );
    });
  }

  it("connects over WebSockets with no WebSocket option, loading ws itself", async () => {
    const output = await runScript(`
      import { HubConnection } from "@hubwire/client";
      if (globalThis.WebSocket !== undefined) throw new Error("This Node has a global WebSocket: the test proves nothing here.");
      const connection = new HubConnection(${JSON.stringify(server.url)}, { transports: ["WebSockets"] });
      await connection.start();
      console.log(connection.transport, await connection.invoke("echo", "over ws"));
      await connection.stop();
    `);
    expect(output).toBe("WebSockets over ws");
  });

  it("says what to do when there is no WebSocket class at all (the browser entry in Node)", async () => {
    const connection = new HubConnection<TestContract>(server.url, { transports: ["WebSockets"] });
    const error = await connection.start().catch((caught: unknown) => caught);
    expect(String(error)).toMatch(/There is no global WebSocket here: pass a WebSocket class as the WebSocket option/);
  });
});
