/**
 * Hubwire on every core of one machine, as docs/scaling.md runs it: this primary forks --workers
 * processes that each run servers/hubwire-server.js (the bench hub over the Redis backplane at
 * --redis, on channels of this run alone) on one shared port, node:cluster handing each new TCP
 * connection to the next worker. To the bench it is one server: it reports the port once every
 * worker listens, and answers stats with the workers' figures summed (and each worker's).
 */
import cluster, { type Worker } from "node:cluster";
import { fileURLToPath } from "node:url";
import { argument, type ChildReport, type ParentRequest, type ServerStats, serveParent } from "../server-process.js";

const workerCount = Number(argument("workers"));
if (!Number.isInteger(workerCount) || workerCount < 1) throw new Error(`--workers must be a whole number of at least 1, not ${argument("workers")}.`);

// Workers inherit this process's Node flags (--expose-gc) and its open-files limit.
cluster.setupPrimary({
  exec: fileURLToPath(new URL("hubwire-server.js", import.meta.url)),
  // This process's id names the run's channels, whatever else shares the Redis.
  args: ["--redis", argument("redis"), "--prefix", `bench-cluster-${process.pid}`],
});
const workers: Worker[] = Array.from({ length: workerCount }, () => cluster.fork());
const isAlive = (worker: Worker) => !worker.isDead();

function listening(worker: Worker): Promise<number> {
  return new Promise((resolve, reject) => {
    worker.once("message", (report: ChildReport) => (report.type === "ready" ? resolve(report.port) : reject(new Error("Unexpected report."))));
    worker.once("exit", (code) => reject(new Error(`A worker exited with ${code} before listening.`)));
  });
}

let nextId = 0;

function statsOf(worker: Worker, gc: boolean): Promise<ServerStats> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const onMessage = (report: ChildReport) => {
      if (report.type !== "stats" || report.id !== id) return;
      worker.off("message", onMessage);
      worker.off("exit", onExit);
      const { type: _type, id: _id, ...stats } = report;
      resolve(stats);
    };
    const onExit = () => reject(new Error("A worker exited."));
    worker.on("message", onMessage);
    worker.once("exit", onExit);
    worker.send({ type: "stats", id, gc } satisfies ParentRequest);
  });
}

/** The live workers' figures, summed; a worker that died is missing from `workers`. */
async function clusterStats(gc: boolean): Promise<ServerStats> {
  const each = await Promise.all(workers.filter(isAlive).map((worker) => statsOf(worker, gc)));
  const sum = (figure: (stats: ServerStats) => number) => each.reduce((total, stats) => total + figure(stats), 0);
  return {
    cpuUs: sum((stats) => stats.cpuUs),
    rssBytes: sum((stats) => stats.rssBytes),
    heapUsedBytes: sum((stats) => stats.heapUsedBytes),
    openFiles: sum((stats) => stats.openFiles ?? 0),
    workers: each,
  };
}

/** Asks each worker to stop, and kills those not gone within 4 s (the bench kills this process at 5). */
async function stopWorkers(): Promise<void> {
  await Promise.all(
    workers.filter(isAlive).map(
      (worker) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => worker.process.kill("SIGKILL"), 4_000);
          worker.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          worker.send({ type: "stop" } satisfies ParentRequest);
        }),
    ),
  );
}

const ports = new Set(await Promise.all(workers.map(listening)));
// A worker that dies later is not replaced: the bench counts the connections it took with it.
if (ports.size !== 1) throw new Error(`The workers listen on different ports: ${[...ports].join(", ")}.`);
serveParent([...ports][0]!, stopWorkers, clusterStats);
