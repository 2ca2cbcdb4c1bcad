/** The Fastify example on a real port, driven by `@hubwire/client`. */
import { HubConnection, HubError } from "@hubwire/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildApp, type ExampleApp } from "./app.js";
import type { Board } from "./contract.js";

let example: ExampleApp;
let url: string;
beforeAll(async () => {
  example = buildApp();
  url = await example.app.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(async () => {
  await example?.app.close();
});

const connections: HubConnection<Board>[] = [];
afterEach(async () => {
  await Promise.all(connections.splice(0).map((connection) => connection.stop()));
});

async function connect(): Promise<{ connection: HubConnection<Board>; received: string[] }> {
  const connection = new HubConnection<Board>(`${url}/board`);
  connections.push(connection);
  const received: string[] = [];
  connection.on("receive", (room, from, text) => {
    received.push(`${room} ${from === connection.connectionId ? "me" : from}: ${text}`);
  });
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

const postOverHttp = (room: string, body: unknown) =>
  fetch(`${url}/rooms/${room}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

describe("the Fastify example", () => {
  it("serves the hub over WebSockets beside Fastify's routes, which see its connections", async () => {
    const { connection } = await connect();
    expect(connection.transport).toBe("WebSockets");
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: "ok", connections: 1 });
  });

  it("posts to a room: members get it, a connection that did not join does not", async () => {
    const ada = await connect();
    const bob = await connect();
    const outsider = await connect();
    await ada.connection.invoke("join", "ops");
    await bob.connection.invoke("join", "ops");
    await ada.connection.invoke("post", "ops", "deploying");
    await until(() => ada.received.length === 1 && bob.received.length === 1, "the post");
    expect(ada.received).toEqual(["ops me: deploying"]);
    expect(bob.received).toEqual([`ops ${ada.connection.connectionId}: deploying`]);
    // The outsider's first message is one sent to it afterwards: it got nothing before.
    await outsider.connection.invoke("join", "other");
    await outsider.connection.invoke("post", "other", "ping");
    await until(() => outsider.received.length === 1, "the outsider's own post");
    expect(outsider.received).toEqual(["other me: ping"]);
  });

  it("a Fastify route sends to a room's connections from plain HTTP, and refuses a bad body with 400", async () => {
    const ada = await connect();
    await ada.connection.invoke("join", "alerts");
    const response = await postOverHttp("alerts", { text: "disk 90% full" });
    expect(response.status).toBe(202);
    await until(() => ada.received.length === 1, "the message from the route");
    expect(ada.received).toEqual(["alerts http: disk 90% full"]);
    expect((await postOverHttp("alerts", { text: 42 })).status).toBe(400);
  });

  it("streams a countdown to the caller, and reports the hub's own error texts", async () => {
    const { connection } = await connect();
    const numbers: number[] = [];
    for await (const n of connection.stream("countdown", 3)) numbers.push(n);
    expect(numbers).toEqual([3, 2, 1, 0]);
    await expect(connection.invoke("join", "Not A Room")).rejects.toThrow(HubError);
    await expect(connection.invoke("join", "Not A Room")).rejects.toThrow("A room is 1 to 32 lower-case letters, digits or '-'.");
  });

  it("closes the hub's connections when Fastify closes (the adapter's onClose hook)", async () => {
    const own = buildApp();
    const ownUrl = await own.app.listen({ port: 0, host: "127.0.0.1" });
    const connection = new HubConnection<Board>(`${ownUrl}/board`);
    const closed = new Promise<Error | undefined>((resolve) => connection.onClose(resolve));
    await connection.start();
    await own.app.close();
    // A Close that allows reconnecting: a client with reconnect on would move to another node.
    expect((await closed)?.message).toBe("Server returned an error on close: The server is shutting down.");
    expect(connection.state).toBe("Disconnected");
    expect(own.hubs.connectionCount("/board")).toBe(0);
  });
});
