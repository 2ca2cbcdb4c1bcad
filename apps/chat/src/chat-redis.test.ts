// The chat sample and its Redis: a REDIS_URL nobody answers, or one that answers nothing, fails
// fast with one line; Redis lost while the sample runs (closed, or silent) is said once in the log
// and told to every page, and so is its return; store calls answer or fail within seconds, in
// words the page can show.
import { HubConnection } from "@hubwire/client";
import { freePort, RedisProcess } from "@hubwire/test-support";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { type ChatServer, startChatServer } from "./chat-server.js";
import type { ChatContract, NodeStatus } from "./contract.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startRedis(): Promise<RedisProcess> {
  const redis = await RedisProcess.start();
  cleanups.push(() => redis.dispose());
  return redis;
}

/** A chat node over `redis` whose log lines go to `logged`. */
async function startNode(redis: RedisProcess, logged: string[] = []): Promise<ChatServer> {
  const chat = await startChatServer({ port: 0, redisUrl: redis.url, log: (line) => logged.push(line) });
  cleanups.push(() => chat.close());
  return chat;
}

/** A page's connection (the typed client over ws), and every node status the server told it. */
async function openPage(chat: ChatServer): Promise<{ connection: HubConnection<ChatContract>; statuses: NodeStatus[] }> {
  const statuses: NodeStatus[] = [];
  const connection = new HubConnection<ChatContract>(`${chat.url}chat`, { WebSocket: WebSocket as never });
  connection.on("nodeStatus", (status) => void statuses.push(status));
  await connection.start();
  cleanups.push(() => connection.stop());
  return { connection, statuses };
}

const roomsSeen = (statuses: readonly NodeStatus[]) => statuses.map((status) => status.rooms);

describe("the chat sample over Redis", () => {
  it("fails within a few seconds, saying what to do, when REDIS_URL does not answer", async () => {
    const started = Date.now();
    const port = await freePort();
    await expect(startChatServer({ port: 0, redisUrl: `redis://127.0.0.1:${port}` })).rejects.toThrow(`Redis at redis://127.0.0.1:${port} is not reachable`);
    await expect(startChatServer({ port: 0, redisUrl: `redis://:secret@127.0.0.1:${port}` })).rejects.toThrow(/Start Redis, fix REDIS_URL, or leave it unset/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("does not start (so says nothing of sharing over Redis) when Redis accepts connections but answers nothing", async () => {
    const redis = await startRedis();
    redis.pause();
    await expect(startChatServer({ port: 0, redisUrl: redis.url })).rejects.toThrow(`Redis at ${redis.url} is not reachable (no answer within 3 s)`);
  });

  it("says once that Redis is gone while it runs, and once that it is back", async () => {
    const redis = await startRedis();
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void errors.push(String(line)));
    const chat = await startChatServer({ port: 0, redisUrl: redis.url });
    cleanups.push(() => chat.close());
    await redis.stop();
    // ioredis retries many times meanwhile; each retry must not be another line.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(errors.filter((line) => line.includes("is unavailable"))).toHaveLength(1);
    expect(errors[0]).toContain("messages may not reach other servers");
    await redis.restart();
    // Not endsWith("is back."): the first line ends so too ("...until it is back.").
    await vi.waitFor(() => expect(errors.filter((line) => line === `Redis at ${redis.url} is back.`)).toHaveLength(1), { timeout: 15_000 });
    expect(errors).toHaveLength(2);
  });

  it("tells each page which node serves it, and once each when Redis is lost and when it is back", async () => {
    const redis = await startRedis();
    const first = await startNode(redis);
    const second = await startNode(redis);
    expect(first.node.nodeId).not.toBe(second.node.nodeId);
    const onFirst = await openPage(first);
    const onSecond = await openPage(second);
    await vi.waitFor(() => expect(onFirst.statuses).toEqual([{ nodeId: first.node.nodeId, rooms: "redis" }]));
    await vi.waitFor(() => expect(onSecond.statuses).toEqual([{ nodeId: second.node.nodeId, rooms: "redis" }]));

    await redis.stop();
    for (const page of [onFirst, onSecond]) await vi.waitFor(() => expect(roomsSeen(page.statuses)).toEqual(["redis", "redis-lost"]), { timeout: 10_000 });
    await redis.restart();
    for (const page of [onFirst, onSecond])
      await vi.waitFor(() => expect(roomsSeen(page.statuses)).toEqual(["redis", "redis-lost", "redis"]), { timeout: 15_000 });
  });

  it("finds a Redis that keeps its connections but answers nothing through the backplane's heartbeat: the page is told, the log says it once", async () => {
    const redis = await startRedis();
    const logged: string[] = [];
    const chat = await startNode(redis, logged);
    const page = await openPage(chat);
    await vi.waitFor(() => expect(roomsSeen(page.statuses)).toEqual(["redis"]));
    redis.pause();
    await vi.waitFor(() => expect(roomsSeen(page.statuses)).toEqual(["redis", "redis-lost"]), { timeout: 15_000 });
    expect(logged).toEqual([
      `Redis at ${redis.url} is unavailable (no answer to the backplane's heartbeat): messages may not reach other servers until it is back.`,
    ]);
    redis.resume();
    await vi.waitFor(() => expect(roomsSeen(page.statuses)).toEqual(["redis", "redis-lost", "redis"]), { timeout: 15_000 });
    expect(logged.slice(1)).toEqual([`Redis at ${redis.url} is back.`]);
  });

  it("answers a join or a message while Redis answers nothing with the store's words instead of hanging, and both work once it answers", async () => {
    const redis = await startRedis();
    const chat = await startNode(redis);
    const { connection } = await openPage(chat);
    expect(await connection.invoke("join", "lobby", "Ada")).toEqual([]);
    redis.pause();
    await redis.untilStalled();
    const refused = "HubException: Redis did not answer within 2 s; try again.";
    await expect(connection.invoke("join", "den", "Ada")).rejects.toThrow(refused);
    await expect(connection.invoke("send", "lobby", "hello")).rejects.toThrow(refused);
    redis.resume();
    expect(await connection.invoke("join", "den", "Ada")).toEqual([]);
    await connection.invoke("send", "den", "hello again");
    expect(await connection.invoke("who", "den")).toEqual(["Ada"]);
  });

  it("shows who is in a room across nodes from the hub's presence, not from entries a dead node left in the store", async () => {
    const redis = await startRedis();
    const one = await startNode(redis);
    const two = await startNode(redis);
    const ada = (await openPage(one)).connection;
    const bob = (await openPage(two)).connection;
    expect(await ada.invoke("join", "den", "Ada")).toEqual([]);
    // Bob's node hears of Ada's join through presence replication (a delta per turn, within moments).
    let present: string[] = [];
    for (const deadline = Date.now() + 5_000; !present.includes("Ada") && Date.now() < deadline; ) {
      present = await bob.invoke("who", "den");
      if (!present.includes("Ada")) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(present).toEqual(["Ada"]);
    expect(await bob.invoke("join", "den", "Bob")).toEqual(["Ada"]);
    // A page of a node that died without a word leaves its name in the store; presence says it is gone.
    await redis.cli("hset", "hubwire-chat:members:den", "a-connection-of-a-dead-node", "Ghost");
    expect(await ada.invoke("who", "den")).toEqual(["Ada", "Bob"]);
    expect(await bob.invoke("who", "den")).toEqual(["Ada", "Bob"]);
  });
});
