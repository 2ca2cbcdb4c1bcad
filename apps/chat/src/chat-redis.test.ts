// The chat sample and its Redis: a REDIS_URL nobody answers fails fast with one line; Redis lost
// while the sample runs is said once, and its return once, not once per reconnect attempt.
import { freePort, RedisProcess } from "@hubwire/test-support";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startChatServer } from "./chat-server.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("the chat sample over Redis", () => {
  it("fails within a few seconds, saying what to do, when REDIS_URL does not answer", async () => {
    const started = Date.now();
    const port = await freePort();
    await expect(startChatServer({ port: 0, redisUrl: `redis://127.0.0.1:${port}` })).rejects.toThrow(`Redis at redis://127.0.0.1:${port} is not reachable`);
    await expect(startChatServer({ port: 0, redisUrl: `redis://:secret@127.0.0.1:${port}` })).rejects.toThrow(/Start Redis, fix REDIS_URL, or leave it unset/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("says once that Redis is gone while it runs, and once that it is back", async () => {
    const redis = await RedisProcess.start();
    cleanups.push(() => redis.dispose());
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
    await vi.waitFor(() => expect(errors.filter((line) => line.endsWith("is back."))).toHaveLength(1), { timeout: 15_000 });
  });
});
