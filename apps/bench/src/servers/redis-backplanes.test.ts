import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { HubConnection } from "@hubwire/client";
import { Redis } from "ioredis";
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BenchContract } from "../bench-contract.js";
import { RedisServer } from "../redis-server.js";
import type { ChildReport, ParentRequest } from "../server-process.js";
import { type System, systems, throughRedis, throughRedisStreams } from "../systems.js";

// The cross-node scenario starts each server twice through one Redis, by pub/sub and by Redis
// Streams; these tests hold every such pair to delivering across nodes, with the real clients.

/** A client on one node: it joins a group (room), relays to one, and hears what reaches it. */
interface Client {
  join(group: string): Promise<void>;
  relay(group: string, payload: string): void;
  /** Resolves with the first message this client receives. */
  readonly received: Promise<string>;
  close(): Promise<void>;
}

async function connectHubwire(url: string): Promise<Client> {
  const connection = new HubConnection<BenchContract>(`${url}/hub`, { transports: ["WebSockets"] });
  const received = new Promise<string>((resolve) => connection.on("message", resolve));
  await connection.start();
  return {
    join: (group) => connection.invoke("join", group),
    relay: (group, payload) => void connection.send("relay", group, payload),
    received,
    close: () => connection.stop(),
  };
}

async function connectSocketIo(url: string): Promise<Client> {
  const socket: Socket = io(url, { transports: ["websocket"], reconnection: false });
  const received = new Promise<string>((resolve) => socket.once("message", resolve));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return {
    join: async (group) => void (await socket.emitWithAck("join", group)),
    relay: (group, payload) => void socket.emit("relay", group, payload),
    received,
    close: async () => void socket.disconnect(),
  };
}

/** Starts one node of `system`; its errors show unless `stderr` is "ignore". */
function startServer(system: System, stderr: "inherit" | "ignore" = "inherit"): { readonly child: ChildProcess; readonly url: Promise<string> } {
  const child = fork(fileURLToPath(new URL(`../../dist/servers/${system.server.script}.js`, import.meta.url)), [...system.server.args], {
    execArgv: [],
    stdio: ["ignore", "ignore", stderr, "ipc"],
  });
  const url = new Promise<string>((resolve, reject) => {
    child.once("message", (report: ChildReport) =>
      report.type === "ready" ? resolve(`http://127.0.0.1:${report.port}`) : reject(new Error("Unexpected report.")),
    );
    child.once("exit", (code) => reject(new Error(`${system.server.script} exited with ${code} before listening.`)));
  });
  return { child, url };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.send({ type: "stop" } satisfies ParentRequest);
  await exited;
}

/** The keys of Redis at `url` that hold a stream. */
async function streamKeys(url: string): Promise<string[]> {
  const client = new Redis(url);
  try {
    const keys = await client.keys("*");
    const types = await Promise.all(keys.map((key) => client.type(key)));
    return keys.filter((_key, index) => types[index] === "stream");
  } finally {
    client.disconnect();
  }
}

const joinings = [
  { peer: systems.hubwireJson, connect: connectHubwire, join: throughRedis, by: "pub/sub", isStreams: false },
  { peer: systems.hubwireJson, connect: connectHubwire, join: throughRedisStreams, by: "durable delivery (--delivery durable)", isStreams: true },
  { peer: systems.socketIo, connect: connectSocketIo, join: throughRedis, by: "@socket.io/redis-adapter", isStreams: false },
  { peer: systems.socketIo, connect: connectSocketIo, join: throughRedisStreams, by: "@socket.io/redis-streams-adapter (--adapter streams)", isStreams: true },
];

describe.each(joinings)("$peer.name, two nodes through Redis by $by", ({ peer, connect, join, isStreams }) => {
  // A Redis of its own, so that what it holds afterwards is this pair's doing.
  let redis: RedisServer;
  const servers: ChildProcess[] = [];
  const clients: Client[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all(servers.map(stopServer));
    await redis?.stop();
  });

  it("delivers a relay sent on one node to the group's member on the other", async () => {
    const system = join(peer, redis.url);
    const started = [startServer(system), startServer(system)];
    servers.push(...started.map((server) => server.child));
    const [sender, member] = await Promise.all(started.map(async (server) => connect(await server.url)));
    clients.push(sender!, member!);
    await member!.join("g");
    // A node reports ready before its backplane has subscribed or begun reading its stream, so
    // the relay is repeated until one crosses; a message is either delivered or not, never changed.
    const retry = setInterval(() => sender!.relay("g", "across"), 200);
    sender!.relay("g", "across");
    try {
      await expect(member!.received).resolves.toBe("across");
    } finally {
      clearInterval(retry);
    }
  });

  it(isStreams ? "sends through a Redis Stream" : "keeps no stream in Redis", async () => {
    expect((await streamKeys(redis.url)).length > 0).toBe(isStreams);
  });
});

describe.each([
  { system: { ...systems.hubwireJson, server: { ...systems.hubwireJson.server, args: ["--delivery", "durable"] } }, option: "--delivery durable" },
  { system: { ...systems.socketIo, server: { ...systems.socketIo.server, args: ["--adapter", "streams"] } }, option: "--adapter streams" },
])("$system.name given $option", ({ system }) => {
  it("refuses to start without --redis, rather than measure a single node under the mode's name", async () => {
    const { url } = startServer(system, "ignore");
    await expect(url).rejects.toThrow(/exited with 1 before listening/);
  });
});
