/**
 * The chat sample's hub for socket.io clients (@hubwire/socket.io on the same server): socket.io-client
 * in Node beside the Hubwire client, in the same rooms. The pages on both clients, in Chromium,
 * are in chat.e2e.test.ts.
 */
import { HubConnection } from "@hubwire/client";
import { type ClientEvents, isCallError, type ServerEvents } from "@hubwire/socket.io";
import { io, type Socket } from "socket.io-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type ChatServer, startChatServer } from "./chat-server.js";
import type { ChatContract, ChatMessage, NodeStatus } from "./contract.js";

type ChatSocket = Socket<ClientEvents<ChatContract>, ServerEvents<ChatContract>>;

let chat: ChatServer;
const cleanups: Array<() => unknown> = [];
beforeEach(async () => {
  chat = await startChatServer({ port: 0 });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await chat.close();
});

/** A socket.io client on the chat's namespace, connected; `nodeStatus` is what the hub said on connecting. */
async function socketIo(): Promise<{ socket: ChatSocket; nodeStatus: Promise<NodeStatus> }> {
  const socket: ChatSocket = io(`${chat.url}chat`, { transports: ["websocket"], reconnection: false, autoConnect: false });
  cleanups.push(() => socket.disconnect());
  const nodeStatus = new Promise<NodeStatus>((resolve) => socket.once("nodeStatus", resolve));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
    socket.connect();
  });
  return { socket, nodeStatus };
}

async function hubwire(): Promise<HubConnection<ChatContract>> {
  const connection = new HubConnection<ChatContract>(`${chat.url}chat`, { WebSocket: WebSocket as never });
  cleanups.push(() => connection.stop());
  await connection.start();
  return connection;
}

async function eventually(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("the chat hub for socket.io clients", () => {
  it("puts a socket.io client and a Hubwire client in one room: presence, messages both ways, history", async () => {
    const { socket: ada, nodeStatus } = await socketIo();
    expect(await nodeStatus).toEqual({ nodeId: "local", rooms: "memory" });
    const bob = await hubwire();
    const byAda: string[] = [];
    const byBob: string[] = [];
    ada.on("joined", (room, user) => byAda.push(`${room}: ${user} joined`));
    ada.on("message", (message) => byAda.push(`${message.room}: ${message.user}: ${message.text}`));
    bob.on("message", (message) => void byBob.push(`${message.room}: ${message.user}: ${message.text}`));
    bob.on("left", (room, user) => void byBob.push(`${room}: ${user} left`));

    expect(await ada.emitWithAck("join", "lobby", "Ada")).toEqual([]);
    expect(await bob.invoke("join", "lobby", "Bob")).toEqual(["Ada"]);
    expect(await ada.emitWithAck("who", "lobby")).toEqual(["Ada", "Bob"]);
    // A method without a result answers nothing in its acknowledgement.
    expect(await ada.emitWithAck("send", "lobby", "hello from socket.io")).toBeUndefined();
    await bob.invoke("send", "lobby", "hello from Hubwire");
    const room = ["lobby: Ada: hello from socket.io", "lobby: Bob: hello from Hubwire"];
    await eventually(() => byAda.length === 3 && byBob.length === 2, "both to see both messages");
    expect(byAda).toEqual(["lobby: Bob joined", ...room]);
    expect(byBob).toEqual(room);

    // History: a stream for the Hubwire client, `recent` in one answer for socket.io (no streams).
    const streamed: ChatMessage[] = [];
    for await (const message of bob.stream("history", "lobby")) streamed.push(message);
    expect(await ada.emitWithAck("recent", "lobby")).toEqual(streamed);
    expect(streamed.map((message) => message.text)).toEqual(["hello from socket.io", "hello from Hubwire"]);

    await ada.emitWithAck("leave", "lobby");
    await eventually(() => byBob.length === 3, "Ada's leaving");
    expect(byBob[2]).toBe("lobby: Ada left");
  });

  it("answers a refused call with { error } in the words a SignalR client reads, and streams not at all", async () => {
    const { socket } = await socketIo();
    const refused = await socket.emitWithAck("send", "lobby", "too early");
    expect(isCallError(refused) && refused.error).toBe("An unexpected error occurred invoking 'send' on the server. HubException: Join 'lobby' first.");
    const badName = await socket.emitWithAck("join", "lobby", "Ada!");
    expect(isCallError(badName) && badName.error).toContain("HubException: Room and name: 1 to 32 letters");
    // history streams: socket.io cannot call it (its types leave it out), the page uses recent.
    const streamed = await (socket as unknown as Socket).emitWithAck("history", "lobby");
    expect(isCallError(streamed)).toBe(true);
  });

  it("says why in hubwire:close before the server ends the connection on shutdown, and lets the client come back", async () => {
    const { socket } = await socketIo();
    const closed = new Promise((resolve) => socket.once("hubwire:close", resolve));
    const disconnected = new Promise((resolve) => socket.once("disconnect", resolve));
    await chat.close();
    expect(await closed).toEqual({ error: "The server is shutting down.", allowReconnect: true });
    // A transport close, after which socket.io-client reconnects by itself (reconnection is off here).
    expect(await disconnected).toBe("transport close");
    chat = await startChatServer({ port: 0 });
  });
});
