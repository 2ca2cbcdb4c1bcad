/**
 * The bench side of every measured server process: it tells the parent its port, and answers
 * the parent's requests for CPU time and memory (after a full GC when asked) over IPC, so the
 * figures come from the server's own process and nothing measures from the outside.
 */
import { existsSync, readdirSync } from "node:fs";

export interface ServerStats {
  /** User + system CPU time of the process so far, microseconds. */
  readonly cpuUs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Files the process holds open, sockets included (from /proc; absent where there is none). */
  readonly openFiles?: number;
  /** A server of several processes (a cluster) sums its workers' figures above and gives each here. */
  readonly workers?: readonly ServerStats[];
}

export type ParentRequest = { readonly type: "stats"; readonly id: number; readonly gc: boolean } | { readonly type: "stop" };
export type ChildReport = { readonly type: "ready"; readonly port: number } | ({ readonly type: "stats"; readonly id: number } & ServerStats);

const gc = (globalThis as { gc?: () => void }).gc;

async function collectGarbage(): Promise<void> {
  if (gc === undefined) throw new Error("Start measured servers with --expose-gc.");
  // Twice, with a turn between: the first pass runs finalizers that free more on the second.
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

/** Reads the flag `--name value` from this process's arguments. */
export function argument(name: string, fallback?: string): string {
  const at = process.argv.indexOf(`--${name}`);
  const value = at === -1 ? fallback : process.argv[at + 1];
  if (value === undefined) throw new Error(`Missing --${name}.`);
  return value;
}

/** This process's own figures, after a full GC if `gc`. */
export async function ownStats(gc: boolean): Promise<ServerStats> {
  if (gc) await collectGarbage();
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  const openFiles = existsSync("/proc/self/fd") ? readdirSync("/proc/self/fd").length : undefined;
  return { cpuUs: cpu.user + cpu.system, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, ...(openFiles === undefined ? {} : { openFiles }) };
}

/**
 * Announces the listening port and serves the parent's stats requests until told to stop. A
 * server of several processes passes `stats`, which gathers its workers' figures.
 */
export function serveParent(port: number, stop: () => Promise<void>, stats: (gc: boolean) => Promise<ServerStats> = ownStats): void {
  const send = (report: ChildReport) => process.send?.(report);
  process.on("message", (request: ParentRequest) => {
    if (request.type === "stop") {
      void stop().finally(() => process.exit(0));
      return;
    }
    void stats(request.gc).then((figures) => send({ type: "stats", id: request.id, ...figures }));
  });
  // An orphaned server (the bench died) must not linger.
  process.on("disconnect", () => process.exit(0));
  send({ type: "ready", port });
}
