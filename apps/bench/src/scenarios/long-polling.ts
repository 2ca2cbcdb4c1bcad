/**
 * (5) Long-polling echo: the echo RPC over HTTP requests, Hubwire against socket.io's polling
 * transport and against a minimal node:http long-polling server (this machine's ceiling for it),
 * one table per payload size.
 */
import { LoadProcess } from "../child-processes.js";
import { formatRatio } from "../figures.js";
import type { Section } from "../report.js";
import { interleave, log } from "../runs.js";
import type { Settings } from "../settings.js";
import { type System, systems } from "../systems.js";
import { type EchoTarget, echoFigures, echoGoals, echoRow, measureEcho } from "./echo.js";

/** Issue 22's goals for Hubwire long polling, throughput and server CPU per request alike. */
const targets = {
  socketIoPolling: { throughput: 1.3, cpu: 1.3 },
  ceiling: { throughput: 0.9, cpu: 0.9 },
} as const satisfies Record<string, EchoTarget>;

export async function longPollingScenario(settings: Settings): Promise<Section[]> {
  const { connections, payloads, warmupMs, durationMs } = settings.longPolling;
  const subjects: System[] = [systems.httpLongPolling, systems.hubwireLongPolling, systems.socketIoPolling];
  const load = LoadProcess.start();
  const sections: Section[] = [];
  try {
    for (const { payloadBytes } of payloads) {
      log(`long polling: ${connections} connections, ${payloadBytes} B`);
      const runs = await interleave(subjects, settings.runs, (system) =>
        measureEcho(system, load, { connections, inflight: 1, payloadBytes, warmupMs, durationMs }),
      );
      const figures = new Map([...runs].map(([system, results]) => [system, echoFigures(results)]));
      const of = (system: System) => figures.get(system)!;
      const label = `long polling echo, ${payloadBytes} B, Hubwire`;
      sections.push({
        title: `Long-polling echo: ${connections} connections, 1 in flight, ${payloadBytes} B`,
        intro:
          "The echo RPC with every connection on long polling: a poll always waiting, and each request a POST. The ceiling is `node:http` alone (apps/bench/src/servers/http-long-polling-server.ts): a parked GET answered by the next POST's body, with the headers Hubwire's answers carry.",
        head: ["system", "requests/s", "p50 ms", "p99 ms", "server CPU ms per 100k", "vs socket.io polling", "vs node:http (ceiling)"],
        rows: subjects.map((system) => [
          ...echoRow(system, of(system), of(systems.socketIoPolling)),
          formatRatio(of(system).perSecond, of(systems.httpLongPolling).perSecond),
        ]),
        goals: [
          ...echoGoals(label, of(systems.hubwireLongPolling), of(systems.socketIoPolling), "socket.io polling", targets.socketIoPolling),
          ...echoGoals(label, of(systems.hubwireLongPolling), of(systems.httpLongPolling), "the node:http ceiling", targets.ceiling),
        ],
      });
    }
  } finally {
    await load.stop();
  }
  return sections;
}
