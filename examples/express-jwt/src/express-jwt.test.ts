/**
 * The Express + JWT example on a real port, driven by the official `@microsoft/signalr` client
 * (and, for the browser's way of sending a token on a WebSocket, by a raw WebSocket).
 */
import { HttpTransportType, type HubConnection, HubConnectionBuilder, LogLevel } from "@microsoft/signalr";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type ExampleServer, startServer } from "./app.js";
import { issueToken, signingKey } from "./tokens.js";

const secret = "a test secret of more than thirty-two bytes";

let running: ExampleServer;
beforeAll(async () => {
  running = await startServer({ secret, port: 0, adminUsers: ["root"] });
});
afterAll(() => running?.close());

const connections: HubConnection[] = [];
afterEach(async () => {
  await Promise.all(connections.splice(0).map((connection) => connection.stop()));
});

async function tokenFor(user: string): Promise<string> {
  const response = await fetch(`${running.url}/token`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user }) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

/** The official client as an app writes it: a token factory asked before every request. */
function official(accessTokenFactory?: () => string | Promise<string>, reconnectDelaysMs?: number[]): HubConnection {
  let builder = new HubConnectionBuilder()
    .withUrl(`${running.url}/inbox`, { transport: HttpTransportType.WebSockets, ...(accessTokenFactory === undefined ? {} : { accessTokenFactory }) })
    .configureLogging(LogLevel.None);
  if (reconnectDelaysMs !== undefined) builder = builder.withAutomaticReconnect(reconnectDelaysMs);
  const connection = builder.build();
  connections.push(connection);
  return connection;
}

async function connectAs(user: string): Promise<{ connection: HubConnection; received: string[] }> {
  const token = await tokenFor(user);
  const connection = official(() => token);
  const received: string[] = [];
  connection.on("receive", (from: string, text: string) => received.push(`${from}: ${text}`));
  connection.on("announcement", (from: string, text: string) => received.push(`[${from}] ${text}`));
  await connection.start();
  return { connection, received };
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const negotiate = (headers: Record<string, string> = {}) => fetch(`${running.url}/inbox/negotiate?negotiateVersion=1`, { method: "POST", headers });

describe("the Express + JWT example", () => {
  it("issues a token at /token; the official client connects with it, and the hub knows the token's sub as the user", async () => {
    const { connection } = await connectAs("ada");
    expect(await connection.invoke("whoAmI")).toBe("ada");
    // Express's own routes still answer beside the hub.
    expect(await (await fetch(`${running.url}/health`)).text()).toBe("ok");
  });

  it("refuses a /token request without a well-formed user name with 400", async () => {
    const response = await fetch(`${running.url}/token`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"user":"no spaces"}' });
    expect(response.status).toBe(400);
  });

  it("refuses with 401 at negotiate a client without a token, or with one signed by another secret or already expired", async () => {
    expect((await negotiate()).status).toBe(401);
    const forged = await issueToken(signingKey("another secret, also thirty-two bytes long"), "ada", "admin");
    expect((await negotiate({ Authorization: `Bearer ${forged}` })).status).toBe(401);
    const expired = await issueToken(signingKey(secret), "ada", "user", -60);
    expect((await negotiate({ Authorization: `Bearer ${expired}` })).status).toBe(401);
    expect((await negotiate({ Authorization: `Bearer ${await tokenFor("ada")}` })).status).toBe(200);

    // What the official client reports for it.
    await expect(official().start()).rejects.toThrow(/Failed to complete negotiation with the server: Error: .*Status code '401'/);
    await expect(official(() => forged).start()).rejects.toThrow(/Status code '401'/);
  });

  it("sends to a user: every connection of that user gets the message, and nobody else", async () => {
    const ada = await connectAs("ada");
    const bobOnPhone = await connectAs("bob");
    const bobOnLaptop = await connectAs("bob");
    const carol = await connectAs("carol");
    await ada.connection.invoke("sendToUser", "bob", "lunch at one?");
    await until(() => bobOnPhone.received.length === 1 && bobOnLaptop.received.length === 1, "both of bob's connections");
    expect(bobOnPhone.received).toEqual(["ada: lunch at one?"]);
    expect(bobOnLaptop.received).toEqual(["ada: lunch at one?"]);
    // Carol's first message is the one sent to her after bob's: she got none before it.
    await ada.connection.invoke("sendToUser", "carol", "and you?");
    await until(() => carol.received.length === 1, "carol's message");
    expect(carol.received).toEqual(["ada: and you?"]);
    expect(ada.received).toEqual([]);
  });

  it("runs the authorized method for a token with the admin role and refuses it for others, without running it", async () => {
    const root = await connectAs("root");
    const bob = await connectAs("bob");
    await expect(bob.connection.invoke("announce", "I am in charge")).rejects.toThrow("Failed to invoke 'announce' because user is unauthorized");
    await root.connection.invoke("announce", "maintenance at noon");
    await until(() => bob.received.length === 1 && root.received.length === 1, "the announcement");
    expect(bob.received).toEqual(["[root] maintenance at noon"]);
  });

  it("takes the token from access_token on a WebSocket, as browsers send it, and refuses that WebSocket without it (401)", async () => {
    const token = await tokenFor("ada");
    const { connectionToken } = (await (await negotiate({ Authorization: `Bearer ${token}` })).json()) as { connectionToken: string };
    const base = `${running.url.replace("http", "ws")}/inbox?id=${encodeURIComponent(connectionToken)}`;

    const refused = new WebSocket(base);
    const status = await new Promise<number | undefined>((resolve) => {
      refused.once("unexpected-response", (_request, response) => resolve(response.statusCode));
      refused.once("open", () => resolve(undefined));
      refused.once("error", () => resolve(undefined));
    });
    refused.terminate();
    expect(status).toBe(401);

    const socket = new WebSocket(`${base}&access_token=${encodeURIComponent(token)}`);
    const records: unknown[] = [];
    socket.on("message", (data: Buffer) => {
      for (const record of data.toString().split("\u001e").filter(Boolean)) records.push(JSON.parse(record));
    });
    await new Promise((resolve, reject) => (socket.once("open", resolve), socket.once("error", reject)));
    socket.send(`${JSON.stringify({ protocol: "json", version: 1 })}\u001e`);
    await until(() => records.length === 1, "the handshake response");
    socket.send(`${JSON.stringify({ type: 1, invocationId: "1", target: "whoAmI", arguments: [] })}\u001e`);
    await until(() => records.length === 2, "the completion");
    socket.close();
    expect(records).toEqual([{}, { type: 3, invocationId: "1", result: "ada" }]);
  });

  it("ends a connection when its token expires; the official client's automatic reconnect asks its factory for a fresh one", async () => {
    // The client is asked for a token before each request (negotiate, then the WebSocket): the
    // app hands out its current one, which it renews while the first (two seconds) runs out.
    let current = await issueToken(signingKey(secret), "ada", "user", 2);
    const connection = official(() => current, [0]);
    const reconnected = new Promise<string | undefined>((resolve) => connection.onreconnected(resolve));
    await connection.start();
    const firstId = connection.connectionId;
    current = await tokenFor("ada");
    const noReconnect = new Promise<never>((_resolve, reject) =>
      setTimeout(() => reject(new Error("No reconnect within 10 s: the connection outlived its token.")), 10_000).unref(),
    );
    expect(await Promise.race([reconnected, noReconnect])).not.toBe(firstId);
    expect(await connection.invoke("whoAmI")).toBe("ada");
  });
});
