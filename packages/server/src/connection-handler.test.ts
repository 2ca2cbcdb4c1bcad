/**
 * A connection handler without a hub (issue 17, ASP.NET Core's MapConnectionHandler), driven by
 * the official client's own connection layer (`HttpConnection`, what its HubConnection runs on)
 * over every transport, and by raw requests.
 */

import { createRequire } from "node:module";
import { HttpTransportType, type ILogger, type LogLevel, TransferFormat } from "@microsoft/signalr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionContext } from "./index.js";
import { eventually } from "./test-helpers/official-client.js";
import { negotiate, openWebSocket } from "./test-helpers/raw-client.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

/** The official client's connection layer: not exported from the package's entry, but shipped in it. */
interface OfficialConnection {
  connectionId?: string;
  onreceive: ((data: string | ArrayBuffer) => void) | null;
  onclose: ((error?: Error) => void) | null;
  start(format: TransferFormat): Promise<void>;
  send(data: string | ArrayBuffer): Promise<void>;
  stop(): Promise<void>;
}
const { HttpConnection } = createRequire(import.meta.url)("@microsoft/signalr/dist/cjs/HttpConnection.js") as {
  HttpConnection: new (url: string, options: object) => OfficialConnection;
};

const quiet: ILogger = { log: (_level: LogLevel, _message: string) => undefined };

/** What each handler saw, by connection id. */
const seen = new Map<string, { transport: string; query: string; user: string | undefined }>();

async function echo(connection: ConnectionContext): Promise<void> {
  seen.set(connection.connectionId, { transport: connection.transport, query: connection.request.query.toString(), user: connection.principal?.userId });
  for await (const message of connection) {
    const text = message.isBinary ? undefined : message.text();
    if (text === "bye") return;
    connection.send(message.isBinary ? message.data : `echo: ${text}`);
  }
}

describe("a connection handler", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({
      hubs: {},
      connectionHandlers: {
        "/echo": echo,
        "/guarded": { handler: echo, authorize: (principal) => principal?.userId === "ada", options: { transports: ["LongPolling"] } },
        "/failing": async () => {
          throw new Error("the handler broke");
        },
      },
      authenticate: ({ accessToken }) => (accessToken === undefined ? undefined : { userId: accessToken }),
    });
  });
  afterAll(() => server.close());

  for (const transport of ["WebSockets", "ServerSentEvents", "LongPolling"] as const) {
    it(`echoes text for the official connection layer over ${transport}, and ends when the handler returns`, async () => {
      const connection = new HttpConnection(`${server.origin}/Echo?room=lobby`, {
        transport: HttpTransportType[transport],
        logger: quiet,
        accessTokenFactory: () => "grace",
      });
      const received: string[] = [];
      let closed: Error | undefined | null = null;
      connection.onreceive = (data) => received.push(String(data));
      connection.onclose = (error) => (closed = error);
      await connection.start(TransferFormat.Text);
      await connection.send("one");
      await connection.send("two");
      await eventually(() => received.join("").includes("echo: two"), 3_000, "both echoes");
      expect(received.join("")).toBe("echo: oneecho: two");
      expect(seen.get(connection.connectionId!)).toEqual({ transport, query: expect.stringContaining("room=lobby"), user: "grace" });
      expect(seen.get(connection.connectionId!)?.query).not.toContain("access_token");
      // The handler returns: the connection ends, and the client hears of it without an error.
      await connection.send("bye");
      await eventually(() => closed !== null, 3_000, "the end");
      expect(closed).toBeUndefined();
    });
  }

  for (const transport of ["WebSockets", "LongPolling"] as const) {
    it(`carries binary both ways over ${transport}`, async () => {
      const connection = new HttpConnection(`${server.origin}/echo`, { transport: HttpTransportType[transport], logger: quiet });
      const received: Uint8Array[] = [];
      connection.onreceive = (data) => received.push(new Uint8Array(data as ArrayBuffer));
      await connection.start(TransferFormat.Binary);
      await connection.send(Uint8Array.of(0, 1, 254, 255).buffer);
      await eventually(() => received.length > 0, 3_000, "the echo");
      expect([...received[0]!]).toEqual([0, 1, 254, 255]);
      await connection.stop();
    });
  }

  it("is ended by the client: its iteration ends and it is forgotten", async () => {
    const connection = new HttpConnection(`${server.origin}/echo`, { transport: HttpTransportType.LongPolling, logger: quiet });
    await connection.start(TransferFormat.Text);
    expect(server.hubs.connectionCount("/echo")).toBeGreaterThan(0);
    await connection.stop();
    await eventually(() => server.hubs.connectionCount("/echo") === 0, 3_000, "the connection to be forgotten");
  });

  it("authorizes at negotiate and serves only its transports", async () => {
    expect((await negotiate(server.origin, "/guarded")).status).toBe(403);
    const allowed = await negotiate(server.origin, "/guarded", "negotiateVersion=1", { headers: { Authorization: "Bearer ada" } });
    expect(allowed.body.availableTransports).toEqual([{ transport: "LongPolling", transferFormats: ["Text", "Binary"] }]);
    const webSocket = await openWebSocket(`${server.origin.replace("http", "ws")}/guarded?id=${allowed.body.connectionToken}`, { Authorization: "Bearer ada" });
    expect({ status: webSocket.status, body: webSocket.body }).toEqual({ status: 404, body: "WebSockets transport not supported by this end point type" });
  });

  it("takes the server-wide hubOptions, as hubs do: requireAuthentication guards it too", async () => {
    const guarded = await startServer({
      connectionHandlers: { "/echo": echo, "/long-polling-only": { handler: echo, options: { transports: ["LongPolling"] } } },
      hubOptions: { requireAuthentication: true, transports: ["WebSockets", "LongPolling"] },
      authenticate: ({ accessToken }) => (accessToken === undefined ? undefined : { userId: accessToken }),
    });
    try {
      expect((await negotiate(guarded.origin, "/echo")).status).toBe(401);
      const admitted = await negotiate(guarded.origin, "/echo", "negotiateVersion=1", { headers: { Authorization: "Bearer ada" } });
      expect(admitted.body.availableTransports?.map((entry) => entry.transport)).toEqual(["WebSockets", "LongPolling"]);
      // The handler's own options win over the server's.
      const own = await negotiate(guarded.origin, "/long-polling-only", "negotiateVersion=1", { headers: { Authorization: "Bearer ada" } });
      expect(own.body.availableTransports?.map((entry) => entry.transport)).toEqual(["LongPolling"]);
    } finally {
      await guarded.close();
    }
  });

  it("ends a connection whose handler throws, and refuses bytes over Server-Sent Events", async () => {
    const failing = new HttpConnection(`${server.origin}/failing`, { transport: HttpTransportType.WebSockets, logger: quiet });
    let closed: Error | undefined | null = null;
    failing.onclose = (error) => (closed = error);
    await failing.start(TransferFormat.Text);
    await eventually(() => closed !== null, 3_000, "the end");
    expect(String(closed)).toContain("1011");

    const bytesOverSse = await startServer({
      connectionHandlers: {
        "/bytes": async (connection) => {
          connection.items.set(
            "error",
            (() => {
              try {
                connection.send(Uint8Array.of(1));
                return "sent";
              } catch (error) {
                return (error as Error).message;
              }
            })(),
          );
          connection.send(String(connection.items.get("error")));
          await connection.closed;
        },
      },
    });
    try {
      const connection = new HttpConnection(`${bytesOverSse.origin}/bytes`, { transport: HttpTransportType.ServerSentEvents, logger: quiet });
      const received: string[] = [];
      connection.onreceive = (data) => received.push(String(data));
      await connection.start(TransferFormat.Text);
      await eventually(() => received.length > 0, 3_000, "the answer");
      expect(received[0]).toBe("The ServerSentEvents transport carries text only: send a string.");
      await connection.stop();
    } finally {
      await bytesOverSse.close();
    }
  });
});
