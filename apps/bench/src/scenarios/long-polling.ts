/** (5) Long-polling echo: the echo RPC over HTTP requests, Hubwire against socket.io's polling transport. */
import { LoadProcess } from "../child-processes.js";
import type { Section } from "../report.js";
import { interleave, log } from "../runs.js";
import type { Settings } from "../settings.js";
import { type System, systems } from "../systems.js";
import { echoFigures, echoGoals, echoRow, measureEcho } from "./echo.js";

export async function longPollingScenario(settings: Settings): Promise<Section[]> {
  const { connections, payloadBytes, warmupMs, durationMs } = settings.longPolling;
  const subjects: System[] = [systems.hubwireLongPolling, systems.socketIoPolling];
  const load = LoadProcess.start();
  log(`long polling: ${connections} connections`);
  try {
    const runs = await interleave(subjects, settings.runs, (system) =>
      measureEcho(system, load, { connections, inflight: 1, payloadBytes, warmupMs, durationMs }),
    );
    const figures = new Map([...runs].map(([system, results]) => [system, echoFigures(results)]));
    const of = (system: System) => figures.get(system)!;
    return [
      {
        title: `Long-polling echo: ${connections} connections, 1 in flight, ${payloadBytes} B`,
        intro: "The echo RPC with every connection on long polling: a poll always waiting, and each request a POST.",
        head: ["system", "requests/s", "p50 ms", "p99 ms", "server CPU ms per 100k", "vs socket.io polling"],
        rows: subjects.map((system) => echoRow(system, of(system), of(systems.socketIoPolling))),
        goals: echoGoals("long polling echo, Hubwire", of(systems.hubwireLongPolling), of(systems.socketIoPolling), "socket.io polling", 1.5),
      },
    ];
  } finally {
    await load.stop();
  }
}
