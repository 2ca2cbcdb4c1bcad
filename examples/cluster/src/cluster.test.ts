/** The cluster example as a user runs it: `node dist/cluster.js` with three workers on one port. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort, RedisProcess } from "@hubwire/test-support";
import * as signalR from "@microsoft/signalr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const entry = fileURLToPath(new URL("../dist/cluster.js", import.meta.url));
let redis: RedisProcess;
let primary: ChildProcess;
let url: string;

beforeAll(async () => {
  redis = await RedisProcess.start();
  const port = await freePort();
  url = `http://127.0.0.1:${port}/counter`;
  primary = spawn(process.execPath, [entry], {
    env: { ...process.env, PORT: String(port), WORKERS: "3", REDIS_URL: redis.url, HUBWIRE_LOG: "silent" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The cluster did not start its three workers:\n${output}`)), 20_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("All 3 workers are ready.")) {
        clearTimeout(timer);
        resolve();
      }
    };
    primary.stdout!.on("data", read);
    primary.stderr!.on("data", read);
  });
}, 30_000);

afterAll(async () => {
  if (primary !== undefined && primary.exitCode === null) {
    const exited = new Promise((resolve) => primary.once("exit", resolve));
    primary.kill("SIGTERM");
    await exited;
  }
  await redis?.dispose();
});

const transports = [
  ["long polling", signalR.HttpTransportType.LongPolling],
  ["Server-Sent Events", signalR.HttpTransportType.ServerSentEvents],
  ["WebSockets", signalR.HttpTransportType.WebSockets],
] as const;

describe("the cluster example: three workers on one port, no sticky sessions", () => {
  for (const [name, transport] of transports) {
    it(`serves clients over ${name} whichever worker each request reaches`, async () => {
      const clients = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const connection = new signalR.HubConnectionBuilder().withUrl(url, { transport }).configureLogging(signalR.LogLevel.None).build();
          const counted: number[] = [];
          connection.on("counted", (_room: string, count: number) => counted.push(count));
          await connection.start();
          return { connection, counted };
        }),
      );
      try {
        const room = `room-${name}`;
        for (const { connection } of clients) await connection.invoke("join", room);
        // Every client hears every join after its own, whichever worker ran it.
        const deadline = Date.now() + 10_000;
        while (clients.some(({ counted }, index) => counted.length < clients.length - index) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        for (const [index, { counted }] of clients.entries()) expect(counted.length, `client ${index}`).toBe(clients.length - index);
        const workers = new Set(await Promise.all(clients.map(({ connection }) => connection.invoke<number>("worker"))));
        expect(workers.size, "the clients' connections live on several workers").toBeGreaterThan(1);
      } finally {
        await Promise.all(clients.map(({ connection }) => connection.stop()));
      }
    });
  }
});
