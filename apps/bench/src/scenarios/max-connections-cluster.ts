/**
 * (8) The most idle connections one machine holds, across processes. One process holds no more
 * than the hard open-files limit (see max-connections.ts), so both sides are spread over
 * processes: Hubwire as workers sharing one port with node:cluster, one hub through the Redis
 * backplane (servers/hubwire-cluster-server.ts), and several load processes, each from its own
 * 127.0.0.x source addresses. The connections are held through a keep-alive round and counted,
 * then every one asks for an echo.
 */
import { fileLimit, LoadProcess } from "../child-processes.js";
import { RedisServer } from "../redis-server.js";
import type { Section } from "../report.js";
import { log, withServers } from "../runs.js";
import type { Settings } from "../settings.js";
import { hubwireCluster, throughRedis } from "../systems.js";

/** Connections opening at once, per load process. */
const concurrency = 64;
const payloadBytes = 32;
const echoTimeoutMs = 60_000;

/** What a run found, as far as it got: a run that fails is reported, with what it had, as not met. */
interface Findings {
  opened?: number;
  failedToOpen?: number;
  openSeconds?: number;
  held?: number;
  answered?: number;
  echoSeconds?: number;
  rssAddedBytes?: number;
  mostOpenFiles?: number;
  workersRunning?: number;
  error?: string;
}

const count = (value: number) => value.toLocaleString("en-US");
const cell = <T>(value: T | undefined, format: (value: T) => string) => (value === undefined ? "" : format(value));
/** `total` split into `parts` shares that differ by at most one. */
const split = (total: number, parts: number) => Array.from({ length: parts }, (_, index) => Math.floor(total / parts) + (index < total % parts ? 1 : 0));

export async function maxConnectionsClusterScenario(settings: Settings): Promise<Section[]> {
  const { connections, sourceAddressesPerProcess, idleMs, goal } = settings.maxConnectionsCluster;
  // A quarter of each process's files left free: node:cluster's round robin passes a busy worker
  // by, so the workers' shares are close to equal, not equal.
  const perProcess = Math.min(settings.maxConnectionsCluster.perProcess, Math.floor(fileLimit * 0.75));
  const processes = Math.ceil(connections / perProcess);
  const maxFiles = Math.max(2 * perProcess, 4096);
  const shares = split(connections, processes);
  const addressesOf = (load: number) =>
    Array.from({ length: sourceAddressesPerProcess }, (_, index) => `127.0.0.${2 + load * sourceAddressesPerProcess + index}`);
  const lastAddress = addressesOf(processes - 1).at(-1)!;
  const findings: Findings = {};
  const system = hubwireCluster(processes);

  log(`max connections, one machine: ${connections} to ${processes} Hubwire processes on one port, from ${processes} load processes`);
  let redis: RedisServer | undefined;
  const loads: LoadProcess[] = [];
  try {
    redis = await RedisServer.start();
    for (let index = 0; index < processes; index++) loads.push(LoadProcess.start(maxFiles));
    await withServers(
      [throughRedis(system, redis.url).server],
      async ([server]) => {
        const before = await server!.stats(true);
        const started = performance.now();
        const opened = await Promise.all(
          loads.map((load, index) =>
            load.run(
              { type: "open", wire: system.wire, urls: [server!.url], count: shares[index]!, payloadBytes, localAddresses: addressesOf(index), concurrency },
              "opened",
            ),
          ),
        );
        findings.openSeconds = (performance.now() - started) / 1000;
        findings.opened = opened.reduce((total, report) => total + report.count, 0);
        findings.failedToOpen = opened.reduce((total, report) => total + report.failed, 0);
        const firstError = opened.find((report) => report.firstError !== undefined)?.firstError;
        log(
          `  opened ${findings.opened} (${findings.failedToOpen} failed${firstError === undefined ? "" : `, first: ${firstError}`}) in ${findings.openSeconds.toFixed(1)} s`,
        );

        await new Promise((resolve) => setTimeout(resolve, idleMs));
        const statuses = await Promise.all(loads.map((load) => load.run({ type: "status" }, "status")));
        findings.held = statuses.reduce((total, status) => total + status.open, 0);
        const after = await server!.stats(true);
        findings.rssAddedBytes = after.rssBytes - before.rssBytes;
        findings.workersRunning = after.workers?.length ?? 0;
        const openFiles = (after.workers ?? []).map((worker) => worker.openFiles ?? 0);
        if (openFiles.length > 0) findings.mostOpenFiles = Math.max(...openFiles);
        log(
          `  ${findings.held} still open after ${idleMs / 1000} s idle; workers' RSS ${(findings.rssAddedBytes / 2 ** 20).toFixed(0)} MiB more; open files per worker ${openFiles.join(", ")}`,
        );

        const echoStarted = performance.now();
        const echoes = await Promise.all(
          loads.map((load) => load.run({ type: "echo-each", payloadBytes, timeoutMs: echoTimeoutMs }, "echo-each-result", echoTimeoutMs + 30_000)),
        );
        findings.echoSeconds = (performance.now() - echoStarted) / 1000;
        findings.answered = echoes.reduce((total, echo) => total + echo.answered, 0);
        log(`  ${findings.answered} of ${findings.held} answered an echo in ${findings.echoSeconds.toFixed(2)} s`);
        await Promise.all(loads.map((load) => load.run({ type: "close" }, "closed")));
      },
      maxFiles,
    );
  } catch (error) {
    findings.error = (error as Error).message;
    log(`  failed: ${findings.error}`);
  } finally {
    await Promise.all(loads.map((load) => load.stop()));
    await redis?.stop();
  }

  const { held, answered, opened, rssAddedBytes } = findings;
  const isAllAnswered = opened !== undefined && opened > 0 && held === opened && answered === opened;
  const notes = [
    findings.workersRunning !== undefined && findings.workersRunning < processes
      ? ` Only ${findings.workersRunning} of the ${processes} workers were still running after the idling.`
      : "",
    findings.error === undefined ? "" : ` The run failed: ${findings.error}`,
  ].join("");
  return [
    {
      title: `Idle connections held by one machine: ${processes} processes on one port (target ${count(connections)})`,
      intro:
        `${processes} Hubwire processes (JSON over WebSockets, the bench hub) share one port with node:cluster and are one hub through the Redis backplane. ` +
        `${processes} load processes open ${count(shares[0]!)} connections each, ${concurrency} at a time, each from its own ${sourceAddressesPerProcess} source addresses (127.0.0.2 to ${lastAddress} in all), straight to the WebSocket without negotiating. ` +
        `The connections stay idle ${idleMs / 1000} s (clients ping every 10 s, the server every 15 s) and are counted; then every one sends one echo at once and the answers are counted. ` +
        `RSS is the workers' summed, each after a full GC, before the connections and after the idling; every worker also keeps every connection's presence for the whole hub (docs/scaling.md), and that is in the figure. ` +
        `No process is given more than ${count(perProcess)} connections: this machine's hard open-files limit is ${count(fileLimit)} per process.${notes}`,
      head: [
        "system",
        "opened",
        "failed to open",
        "still open after idling",
        "answered the echo",
        "all answered",
        "seconds to open all",
        "seconds for every echo",
        "workers' RSS added",
        "KiB RSS per connection",
        "most open files in one worker",
      ],
      rows: [
        [
          system.name,
          cell(opened, count),
          cell(findings.failedToOpen, count),
          cell(held, count),
          cell(answered, count),
          answered === undefined ? "" : isAllAnswered ? "yes" : "no",
          cell(findings.openSeconds, (seconds) => seconds.toFixed(1)),
          cell(findings.echoSeconds, (seconds) => seconds.toFixed(2)),
          cell(rssAddedBytes, (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`),
          held === undefined || held === 0 || rssAddedBytes === undefined ? "" : (rssAddedBytes / held / 1024).toFixed(1),
          cell(findings.mostOpenFiles, count),
        ],
      ],
      goals: [{ text: "idle WebSocket connections held and answering on one machine, across processes", measured: answered ?? 0, atLeast: goal, unit: "" }],
    },
  ];
}
