import { startTcpProxy } from "@hubwire/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { HubConnection } from "./index.js";
import { MessagePackHubProtocol } from "./msgpack.js";
import { statefulReconnect } from "./stateful-reconnect.js";
import type { TestContract } from "./test-helpers/contract.js";
import { eventually, startTestServer } from "./test-helpers/test-server.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("reconnecting", () => {
  it("reconnects automatically after the server restarts, with a new connection id", async () => {
    let server = await startTestServer();
    const port = server.port;
    const connection = new HubConnection<TestContract>(server.url, { WebSocket, reconnect: [0, 100, 200, 400, 800, 1600] });
    cleanups.push(() => connection.stop());
    await connection.start();
    const firstId = connection.connectionId;
    const reconnecting = new Promise<Error | undefined>((resolve) => connection.onReconnecting(resolve));
    const reconnected = new Promise<string | null>((resolve) => connection.onReconnected(resolve));
    await server.close();
    expect(await reconnecting).toBeInstanceOf(Error);
    expect(connection.state).toBe("Reconnecting");
    server = await startTestServer({}, port);
    cleanups.push(() => server.close());
    const newId = await reconnected;
    expect(newId).not.toBe(firstId);
    expect(await connection.invoke("echo", "after restart")).toBe("after restart");
  });

  it("gives up after the policy's last delay and reports the close", async () => {
    const server = await startTestServer();
    const connection = new HubConnection<TestContract>(server.url, { WebSocket, reconnect: [0, 50] });
    await connection.start();
    const closed = new Promise<Error | undefined>((resolve) => connection.onClose(resolve));
    await server.close();
    expect(await closed).toBeInstanceOf(Error);
    expect(connection.state).toBe("Disconnected");
  });

  const cases = [
    ["WebSockets", "json"],
    ["WebSockets", "messagepack"],
    ["ServerSentEvents", "json"],
    ["LongPolling", "json"],
    ["LongPolling", "messagepack"],
  ] as const;
  for (const [transport, protocol] of cases) {
    it(`survives forced drops with stateful reconnect: 0 lost, 0 duplicated, same id, no onReconnecting (${transport}, ${protocol})`, async () => {
      const server = await startTestServer({ hubOptions: { allowStatefulReconnect: true, keepAliveIntervalMs: 200 } });
      const proxy = await startTcpProxy(server.port);
      cleanups.push(
        () => server.close(),
        () => proxy.close(),
      );
      const connection = new HubConnection<TestContract>(`http://127.0.0.1:${proxy.port}/hub`, {
        WebSocket,
        transports: [transport],
        statefulReconnect: statefulReconnect(),
        reconnect: [0, 100],
        ...(protocol === "messagepack" ? { protocol: new MessagePackHubProtocol() } : {}),
      });
      cleanups.push(() => connection.stop());
      let reconnectingEvents = 0;
      connection.onReconnecting(() => reconnectingEvents++);
      const received: number[] = [];
      connection.on("numbered", (value) => void received.push(value));
      await connection.start();
      const id = connection.connectionId;
      const count = 500;
      const pushed = connection.invoke("pushNumbers", count);
      const sending = (async () => {
        for (let i = 1; i <= count; i++) {
          await connection.send("take", i);
          if (i % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      for (let cut = 0; cut < 4; cut++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const before = proxy.connectionCount;
        proxy.cut();
        await eventually(() => proxy.connectionCount > before, 5_000, "the client to re-attach");
      }
      await sending;
      expect(await pushed).toBe(count);
      await eventually(() => received.length >= count, 5_000, "every numbered message");
      expect(received).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      expect(await connection.invoke("taken")).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      expect(connection.connectionId).toBe(id);
      expect(reconnectingEvents).toBe(0);
    });
  }
});

describe("stateful reconnect against a server that does not resume the transport", () => {
  it("ends the connection after the server timeout when no Sequence follows a re-attach (as an ASP.NET Core server over long polling), and reconnects", async () => {
    const server = await startTestServer({ hubOptions: { allowStatefulReconnect: true, longPollTimeoutMs: 200 } });
    cleanups.push(() => server.close());
    // Requests reach the real server, but without their `link`, as a server that does not know it
    // reads them (it then serves the re-attach as an ordinary poll); one poll fails as a dropped
    // link would.
    let failNextPoll = false;
    const fetchLikeAnOlderServer: typeof fetch = (input, init) => {
      const url = String(input).replace(/&link=\d+/, "");
      if (failNextPoll && (init?.method ?? "GET") === "GET" && url.includes("id=")) {
        failNextPoll = false;
        return Promise.reject(new TypeError("fetch failed"));
      }
      return fetch(url, init);
    };
    const connection = new HubConnection<TestContract>(server.url, {
      transports: ["LongPolling"],
      statefulReconnect: statefulReconnect(),
      serverTimeoutMs: 600,
      reconnect: [0],
      fetch: fetchLikeAnOlderServer,
    });
    cleanups.push(() => connection.stop());
    await connection.start();
    const firstId = connection.connectionId;
    const reconnecting = new Promise<Error | undefined>((resolve) => connection.onReconnecting(resolve));
    const reconnected = new Promise<string | null>((resolve) => connection.onReconnected(resolve));
    failNextPoll = true;
    expect((await reconnecting)?.message).toContain("did not resume the connection");
    expect(await reconnected).not.toBe(firstId);
    expect(await connection.invoke("echo", "after")).toBe("after");
  });

  it("ends the connection when it is stopped while a re-attach is under way (long polling)", async () => {
    // Short polls, so that the next one (which the test fails) comes soon.
    const server = await startTestServer({ hubOptions: { allowStatefulReconnect: true, longPollTimeoutMs: 200 } });
    cleanups.push(() => server.close());
    let failNextPoll = false;
    let reattachSeen: () => void = () => undefined;
    const reattaching = new Promise<void>((resolve) => (reattachSeen = resolve));
    const slowReattach: typeof fetch = async (input, init) => {
      const url = String(input);
      if (failNextPoll && (init?.method ?? "GET") === "GET" && url.includes("id=")) {
        failNextPoll = false;
        throw new TypeError("fetch failed");
      }
      const response = await fetch(url, init);
      if (url.includes("link=1&")) {
        // The server has re-attached (it waits for the client's Sequence, dropping all else, the
        // Close included); its answer reaches the client late, after the app's stop().
        reattachSeen();
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      return response;
    };
    const connection = new HubConnection<TestContract>(server.url, {
      transports: ["LongPolling"],
      statefulReconnect: statefulReconnect(),
      fetch: slowReattach,
    });
    await connection.start();
    const closed = new Promise<Error | undefined>((resolve) => connection.onClose(resolve));
    failNextPoll = true;
    await reattaching;
    await connection.stop();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([closed.then(() => "closed"), new Promise((resolve) => (timer = setTimeout(resolve, 3_000, "still open")))]);
    clearTimeout(timer);
    expect(outcome).toBe("closed");
    expect(connection.state).toBe("Disconnected");
  });
});
