/** The official-client suite, run against a hub on each runtime (hub-server.test.ts, bun-runtime.test.ts). */
import { HttpTransportType, HubConnectionState, type HubConnection as OfficialHubConnection } from "@microsoft/signalr";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { HubServerOptions } from "../api.js";
import { buildOfficialClient, type CollectingLogger, eventually, type ProtocolChoice } from "./official-client.js";
import type { TargetSpec } from "./test-hub.js";

/**
 * A server running {@link suiteHubOptions} with the test hub at `/hub`, on some runtime, and what the
 * suite asks of it from outside.
 */
export interface SuiteServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Connections the hub at `/hub` holds. */
  connectionCount(): Promise<number>;
  /** Sends `receive(text)` to a user through the hub context, as a timer would. */
  sendToUser(userId: string, text: string): Promise<void>;
  /** What the hub's `record` method has recorded. */
  recorded(): Promise<unknown[]>;
  close(): Promise<void>;
}

/** The options every runtime's suite server uses (with `hubs: { "/hub": testHub }`). */
export const suiteHubOptions = {
  hubOptions: { keepAliveIntervalMs: 100, clientTimeoutMs: 400, handshakeTimeoutMs: 300 },
  authenticate: ({ accessToken }) => {
    if (accessToken === undefined) return undefined;
    const [userId, role] = accessToken.split(":");
    return { userId: userId!, claims: { role } };
  },
} satisfies Omit<HubServerOptions, "hubs">;

type TransportChoice = "WebSockets" | "ServerSentEvents" | "LongPolling";
const cases: Array<{ protocol: ProtocolChoice; transport: TransportChoice }> = [
  { protocol: "json", transport: "WebSockets" },
  { protocol: "messagepack", transport: "WebSockets" },
  { protocol: "json", transport: "ServerSentEvents" },
  { protocol: "json", transport: "LongPolling" },
  { protocol: "messagepack", transport: "LongPolling" },
];

/**
 * The official SignalR client against a hub, over every transport and protocol: results, errors,
 * sends, targets, the hub context, keep-alive, closing, limits. Run for each runtime.
 *
 * @example
 * ```ts
 * officialClientSuite("on Node", () => startNodeSuiteServer());
 * ```
 */
export function officialClientSuite(runtime: string, start: () => Promise<SuiteServer>): void {
  describe.each(cases)(`the official SignalR client ${runtime} over $transport, $protocol`, ({ protocol, transport }) => {
    let server: SuiteServer;
    const opened: Array<{ connection: OfficialHubConnection; logger: CollectingLogger }> = [];

    beforeAll(async () => {
      server = await start();
    });
    afterAll(() => server.close());

    afterEach(async () => {
      await Promise.all(opened.map(({ connection }) => connection.stop()));
      opened.length = 0;
    });

    async function connect(options: Parameters<typeof buildOfficialClient>[2] = {}) {
      const client = buildOfficialClient(`${server.origin}/hub`, protocol, { transport: HttpTransportType[transport], ...options });
      opened.push(client);
      await client.connection.start();
      return client.connection;
    }

    describe("results", () => {
      const values: Array<[string, unknown]> = [
        ["0", 0],
        ["false", false],
        ['""', ""],
        ["null", null],
        ["a string", "héllo 😀"],
        ["a negative float", -1.25],
        ["an array", [1, "two", null, [3]]],
        ["an object", { a: 1, b: { c: [true, false] } }],
      ];
      for (const [name, value] of values) {
        it(`returns ${name}`, async () => {
          const connection = await connect();
          expect(await connection.invoke("echo", value)).toEqual(value);
        });
      }

      it("returns nothing from a void method", async () => {
        const connection = await connect();
        expect(await connection.invoke("nothing")).toBeUndefined();
      });

      it("matches method names case-insensitively", async () => {
        const connection = await connect();
        expect(await connection.invoke("ADD", 2, 3)).toBe(5);
        expect(await connection.invoke("Echo", "x")).toBe("x");
      });
    });

    describe("errors", () => {
      it("hides a thrown error's message behind SignalR's generic text", async () => {
        const connection = await connect();
        await expect(connection.invoke("throwPlain", "database password is hunter2")).rejects.toThrow(
          "An unexpected error occurred invoking 'throwPlain' on the server.",
        );
        await expect(connection.invoke("throwPlain", "database password is hunter2")).rejects.not.toThrow(/hunter2/);
      });

      it("passes a HubError's message through, as a HubException", async () => {
        const connection = await connect();
        await expect(connection.invoke("throwHubError", "Room is full.")).rejects.toThrow(
          "An unexpected error occurred invoking 'throwHubError' on the server. HubException: Room is full.",
        );
      });

      it("answers an unknown method with SignalR's text", async () => {
        const connection = await connect();
        await expect(connection.invoke("noSuchMethod")).rejects.toThrow(
          "Failed to invoke 'noSuchMethod' due to an error on the server. HubException: Method does not exist.",
        );
      });

      it("treats __proto__, constructor and toString as unknown methods", async () => {
        const connection = await connect();
        for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
          await expect(connection.invoke(name)).rejects.toThrow(`Failed to invoke '${name}' due to an error on the server.`);
        }
      });

      it("refuses a wrong argument count or type with SignalR's text", async () => {
        const connection = await connect();
        await expect(connection.invoke("add", 1)).rejects.toThrow("Failed to invoke 'add' due to an error on the server.");
        await expect(connection.invoke("add", 1, 2, 3)).rejects.toThrow("Failed to invoke 'add' due to an error on the server.");
        await expect(connection.invoke("add", "1", 2)).rejects.toThrow("Failed to invoke 'add' due to an error on the server.");
        await expect(connection.invoke("echo")).rejects.toThrow("Failed to invoke 'echo' due to an error on the server.");
        expect(await connection.invoke("add", 1, 2)).toBe(3);
      });

      it("refuses a method the user is not authorized for, without running it", async () => {
        const guest = await connect({ accessTokenFactory: () => "bob:guest" });
        await expect(guest.invoke("adminOnly")).rejects.toThrow("Failed to invoke 'adminOnly' because user is unauthorized");
        const admin = await connect({ accessTokenFactory: () => "alice:admin" });
        expect(await admin.invoke("adminOnly")).toBe("secret");
      });
    });

    describe("fire-and-forget", () => {
      it("runs a send, and a failing send does not disturb the connection", async () => {
        const connection = await connect();
        const value = Math.random();
        await connection.send("record", value);
        await connection.send("throwPlain", "ignored");
        await connection.send("noSuchMethod");
        expect(await connection.invoke("echo", "after")).toBe("after");
        expect(await server.recorded()).toContain(value);
      });
    });

    describe("targets, with five clients", () => {
      async function fiveClients() {
        const clients = await Promise.all(
          ["ann", "ann", "ben", "cat", undefined].map(async (user) => {
            const connection = await connect(user === undefined ? {} : { accessTokenFactory: () => `${user}:member` });
            const inbox: string[] = [];
            connection.on("receive", (text: string) => inbox.push(text));
            const { connectionId } = (await connection.invoke("whoAmI")) as { connectionId: string };
            return { connection, inbox, connectionId, user };
          }),
        );
        await clients[0]!.connection.invoke("join", "red");
        await clients[1]!.connection.invoke("join", "red");
        await clients[2]!.connection.invoke("join", "blue");
        await clients[3]!.connection.invoke("join", "blue");
        await clients[3]!.connection.invoke("join", "red");
        return clients;
      }

      /** Sends from client 0 and returns the indexes of the clients that received it, once each. */
      async function reach(clients: Awaited<ReturnType<typeof fiveClients>>, target: TargetSpec): Promise<number[]> {
        const text = `${target.kind}-${Math.random()}`;
        await clients[0]!.connection.invoke("sendTo", target, text);
        // A marker sent to all after the message: once everyone has it, the message has arrived where it will.
        const marker = `marker-${Math.random()}`;
        await clients[0]!.connection.invoke("sendTo", { kind: "all" }, marker);
        await eventually(() => clients.every((client) => client.inbox.includes(marker)), 5_000, "the marker");
        return clients.flatMap((client, index) => {
          const count = client.inbox.filter((entry) => entry === text).length;
          expect(count, `client ${index} got '${target.kind}' ${count} times`).toBeLessThanOrEqual(1);
          return count === 1 ? [index] : [];
        });
      }

      it("reaches exactly the right connections for every target", async () => {
        const clients = await fiveClients();
        const id = (index: number) => clients[index]!.connectionId;
        expect(await reach(clients, { kind: "all" })).toEqual([0, 1, 2, 3, 4]);
        expect(await reach(clients, { kind: "allExcept", ids: [id(1), id(4)] })).toEqual([0, 2, 3]);
        expect(await reach(clients, { kind: "caller" })).toEqual([0]);
        expect(await reach(clients, { kind: "others" })).toEqual([1, 2, 3, 4]);
        expect(await reach(clients, { kind: "client", id: id(2) })).toEqual([2]);
        expect(await reach(clients, { kind: "clients", ids: [id(2), id(4), id(2)] })).toEqual([2, 4]);
        expect(await reach(clients, { kind: "group", name: "red" })).toEqual([0, 1, 3]);
        expect(await reach(clients, { kind: "groups", names: ["red", "blue"] })).toEqual([0, 1, 2, 3]);
        expect(await reach(clients, { kind: "groupExcept", name: "red", ids: [id(1)] })).toEqual([0, 3]);
        expect(await reach(clients, { kind: "othersInGroup", name: "red" })).toEqual([1, 3]);
        expect(await reach(clients, { kind: "user", id: "ann" })).toEqual([0, 1]);
        expect(await reach(clients, { kind: "users", ids: ["ben", "cat"] })).toEqual([2, 3]);
        expect(await reach(clients, { kind: "group", name: "nobody" })).toEqual([]);
      });

      it("stops delivering to a group after leaving it, and to a connection after it closed", async () => {
        const clients = await fiveClients();
        await clients[1]!.connection.invoke("leave", "red");
        expect(await reach(clients, { kind: "group", name: "red" })).toEqual([0, 3]);
        await clients[3]!.connection.stop();
        const deadline = Date.now() + 2_000;
        while ((await server.connectionCount()) > opened.length - 1) {
          if (Date.now() > deadline) throw new Error("Timed out waiting for the server to see the close.");
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const remaining = clients.filter((_, index) => index !== 3);
        const text = `after-${Math.random()}`;
        await clients[0]!.connection.invoke("sendTo", { kind: "group", name: "red" }, text);
        await clients[0]!.connection.invoke("sendTo", { kind: "all" }, "marker2");
        await eventually(() => remaining.every((client) => client.inbox.includes("marker2")));
        expect(clients[0]!.inbox).toContain(text);
        expect(clients[3]!.inbox).not.toContain(text);
      });
    });

    describe("sending from outside a hub", () => {
      it("reaches clients through the hub context", async () => {
        const connection = await connect({ accessTokenFactory: () => "dana:member" });
        const inbox: string[] = [];
        connection.on("receive", (text: string) => inbox.push(text));
        await server.sendToUser("dana", "from a timer");
        await eventually(() => inbox.includes("from a timer"));
      });
    });

    describe("keep-alive and timeouts", () => {
      it("keeps an idle client connected across several keep-alive periods", async () => {
        // The client's own server timeout (300 ms) is shorter than four keep-alive periods: only pings keep it alive.
        const { connection, logger } = buildOfficialClient(`${server.origin}/hub`, protocol, { transport: HttpTransportType[transport] });
        opened.push({ connection, logger });
        connection.serverTimeoutInMilliseconds = 300;
        connection.keepAliveIntervalInMilliseconds = 100;
        await connection.start();
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect(connection.state).toBe(HubConnectionState.Connected);
        expect(await connection.invoke("echo", 1)).toBe(1);
      });
    });

    describe("closing", () => {
      it("a server Close with allowReconnect starts the official client's automatic reconnect", async () => {
        const connection = await connect({ reconnectDelaysMs: [0, 100, 100] });
        const firstId = connection.connectionId;
        const reconnecting = new Promise<Error | undefined>((resolve) => connection.onreconnecting(resolve));
        const reconnected = new Promise<string | undefined>((resolve) => connection.onreconnected(resolve));
        await connection.invoke("closeMe", true);
        expect(String(await reconnecting)).toContain("Closed by the test.");
        const newId = await reconnected;
        expect(newId).toBeTruthy();
        expect(newId).not.toBe(firstId);
        expect(await connection.invoke("echo", "back")).toBe("back");
      });

      it("a server Close without allowReconnect ends the connection with the server's error", async () => {
        const connection = await connect({ reconnectDelaysMs: [0] });
        const closed = new Promise<Error | undefined>((resolve) => connection.onclose(resolve));
        let reconnecting = false;
        connection.onreconnecting(() => (reconnecting = true));
        await connection.invoke("closeMe", false);
        expect(String(await closed)).toContain("Server returned an error on close: Closed by the test.");
        expect(reconnecting).toBe(false);
      });
    });

    if (transport === "WebSockets") {
      it("connects with skipNegotiation over WebSockets", async () => {
        const connection = await connect({ skipNegotiation: true, transport: HttpTransportType.WebSockets });
        expect(connection.connectionId).toBeNull();
        const me = (await connection.invoke("whoAmI")) as { connectionId: string };
        expect(me.connectionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      });
    }

    it("closes only the connection that sent a message over the limit", async () => {
      const healthy = await connect();
      const offender = await connect();
      const closed = new Promise<Error | undefined>((resolve) => offender.onclose(resolve));
      offender.invoke("echo", "x".repeat(40 * 1024)).catch(() => undefined);
      expect(await closed).toBeDefined();
      expect(offender.state).toBe(HubConnectionState.Disconnected);
      expect(await healthy.invoke("echo", "still here")).toBe("still here");
    });
  });
}
