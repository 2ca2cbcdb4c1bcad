import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHubServer, defineHub, type HubContract, type HubServer, silentLogger } from "@hubwire/server";
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { decodeEnvelope, EnvelopeKind } from "./envelope.js";
import { redisLifetimeManager } from "./redis-lifetime-manager.js";

interface Contract extends HubContract {
  server: { join(group: string): void; say(group: string, text: string, bytes: Uint8Array): void };
  client: { said(text: string, bytes: Uint8Array): void };
}

const hub = defineHub<Contract>({
  methods: {
    join: (ctx, group) => ctx.groups.add(ctx.connectionId, group),
    say: (ctx, group, text, bytes) => ctx.clients.group(group).said(text, bytes),
  },
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function node(prefix: string): Promise<{ hubs: HubServer; url: string }> {
  const hubs = createHubServer({
    hubs: { "/hub": hub },
    logger: silentLogger,
    lifetimeManager: redisLifetimeManager({ redis: "redis://127.0.0.1:6379", prefix, heartbeatIntervalMs: 100 }),
  });
  const server: Server = createServer((_request, response) => response.writeHead(404).end());
  hubs.attach(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    await hubs.close({ drainTimeoutMs: 0 });
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { hubs, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hub` };
}

async function client(url: string, messagePack: boolean) {
  let builder = new signalR.HubConnectionBuilder().withUrl(url, { transport: signalR.HttpTransportType.WebSockets }).configureLogging(signalR.LogLevel.None);
  if (messagePack) builder = builder.withHubProtocol(new MessagePackHubProtocol());
  const connection = builder.build();
  const said: Array<[string, unknown]> = [];
  connection.on("said", (text: string, bytes: unknown) => said.push([text, bytes]));
  cleanups.push(() => connection.stop());
  await connection.start();
  return { connection, said };
}

async function eventually(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("a message is encoded for other nodes only in the protocols their connections speak", () => {
  it("sends JSON alone while the other node's clients all speak JSON, MessagePack too once one speaks it, bytes intact", async () => {
    const prefix = `protocols-${Math.random()}`;
    const a = await node(prefix);
    const b = await node(prefix);
    const spy = new Redis(6379, "127.0.0.1");
    cleanups.push(() => spy.disconnect());
    const encodings: string[][] = [];
    await spy.psubscribe(`${prefix}:*:group:*`);
    spy.on("pmessageBuffer", (_pattern: Buffer, _channel: Buffer, message: Buffer) => {
      const envelope = decodeEnvelope(message);
      if (envelope?.kind === EnvelopeKind.Invocation) encodings.push([...envelope.encoded.keys()].sort());
    });
    const sender = await client(a.url, false);
    const reader = await client(b.url, false);
    await sender.connection.invoke("join", "room");
    await reader.connection.invoke("join", "room");
    // Sends until the envelope carries what the other node's clients speak (each node announces its
    // protocols in its heartbeats, at once when a new one arrives): JSON alone.
    const sendUntil = async (expected: string[], send: () => Promise<unknown>) => {
      for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
        const before = encodings.length;
        await send();
        await eventually(() => encodings.length > before, "the envelope");
        if (JSON.stringify(encodings.at(-1)) === JSON.stringify(expected)) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`The envelopes never carried ${expected.join(" and ")}: ${JSON.stringify(encodings)}`);
    };
    await sendUntil(["json"], () => sender.connection.invoke("say", "room", "json only", new Uint8Array([1, 2, 3])));
    await eventually(() => reader.said.length === encodings.length, "every message to the reader");

    // A MessagePack client on b: MessagePack is sent too, and bytes from the server arrive as bytes.
    const binary = await client(b.url, true);
    await binary.connection.invoke("join", "room");
    // Bytes from the server (a JSON client cannot send them: its Uint8Array arrives as an object).
    await sendUntil(["json", "messagepack"], () =>
      a.hubs
        .hubContext(hub)
        .clients.group("room")
        .said("both", new Uint8Array([4, 5, 6])),
    );
    await eventually(() => binary.said.length > 0 && binary.said.at(-1)![0] === "both", "the bytes to the MessagePack client");
    expect(binary.said.at(-1)![1]).toEqual(new Uint8Array([4, 5, 6]));
  });
});
