/**
 * Every core of one machine: the primary forks one worker per core (or `WORKERS`), and each
 * worker serves the hub on the same port (node:cluster hands each new TCP connection to the next
 * worker). The workers are one hub through the Redis backplane, which also routes each request of
 * a connection to the worker that holds it, so nothing needs to stick a client to a worker.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 PORT=3000 WORKERS=4 npm start -w examples/cluster
 */
import cluster from "node:cluster";
import { availableParallelism } from "node:os";
import { startWorker } from "./worker.js";

const workers = Number(process.env["WORKERS"] ?? availableParallelism());
const port = Number(process.env["PORT"] ?? 3000);
const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";

if (cluster.isPrimary) {
  console.log(`Hubwire on http://localhost:${port}/counter: ${workers} workers over ${redisUrl}`);
  for (let i = 0; i < workers; i++) cluster.fork();
  let ready = 0;
  cluster.on("message", (_worker, message: { ready?: number }) => {
    if (message.ready !== undefined && ++ready === workers) console.log(`All ${workers} workers are ready.`);
  });
  let stopping = false;
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) return;
    // A worker that dies is replaced; its clients reconnect to the others meanwhile.
    console.error(`Worker ${worker.process.pid} exited (${signal ?? code}); starting another.`);
    cluster.fork();
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    });
  }
} else {
  const stop = await startWorker({ port, redisUrl, ...(process.env["REDIS_PREFIX"] ? { prefix: process.env["REDIS_PREFIX"] } : {}) });
  process.once("SIGTERM", () => void stop().then(() => process.exit(0)));
  process.send?.({ ready: process.pid });
}
