/** (3) Idle memory per connection: the server's RSS and heap after GC, before and after N idle connections. */
import { LoadProcess } from "../child-processes.js";
import { figureOf, formatFigure } from "../figures.js";
import type { Section } from "../report.js";
import { interleave, log, openAll, withServers } from "../runs.js";
import type { Settings } from "../settings.js";
import { type System, systems } from "../systems.js";

export async function idleMemoryScenario(settings: Settings): Promise<Section[]> {
  const { connections } = settings.idle;
  const subjects: System[] = [systems.ws, systems.hubwireJson, systems.hubwireMessagePack, systems.socketIo];
  const maxFiles = connections * 2 + 1024;
  const load = LoadProcess.start(maxFiles);
  log(`idle memory: ${connections} connections`);
  try {
    const runs = await interleave(subjects, settings.runs, (system) =>
      withServers(
        [system.server],
        async ([server]) => {
          const before = await server!.stats(true);
          await openAll(load, { type: "open", wire: system.wire, urls: [server!.url], count: connections, payloadBytes: 32, concurrency: 64 });
          try {
            await new Promise((resolve) => setTimeout(resolve, settings.quick ? 100 : 2_000));
            const after = await server!.stats(true);
            const run = { rssBytes: (after.rssBytes - before.rssBytes) / connections, heapBytes: (after.heapUsedBytes - before.heapUsedBytes) / connections };
            log(`  ${system.name}: ${(run.rssBytes / 1024).toFixed(1)} KiB RSS, ${(run.heapBytes / 1024).toFixed(1)} KiB heap per connection`);
            return run;
          } finally {
            await load.run({ type: "close" }, "closed");
          }
        },
        maxFiles,
      ),
    );
    const figures = new Map(
      [...runs].map(([system, results]) => [
        system,
        { rss: figureOf(results.map((run) => run.rssBytes / 1024)), heap: figureOf(results.map((run) => run.heapBytes / 1024)) },
      ]),
    );
    const of = (system: System) => figures.get(system)!;
    return [
      {
        title: `Idle memory: ${connections.toLocaleString("en-US")} connections`,
        intro:
          "The server's resident set and V8 heap after a full GC, before and after the connections opened (and finished their handshakes), divided by the count.",
        head: ["system", "KiB RSS per connection", "KiB heap per connection", "RSS vs raw ws"],
        rows: subjects.map((system) => [
          system.name,
          formatFigure(of(system).rss),
          formatFigure(of(system).heap),
          `${(of(system).rss.median / of(systems.ws).rss.median).toFixed(2)}x`,
        ]),
        goals: [systems.hubwireJson, systems.hubwireMessagePack].flatMap((system) => [
          // Goals are "at least" ratios: here the peer's memory over ours.
          {
            text: `idle memory, ${system.name}: raw ws RSS / ours (at most 1.25x raw ws)`,
            measured: of(systems.ws).rss.median / of(system).rss.median,
            atLeast: 0.8,
          },
          {
            text: `idle memory, ${system.name}: socket.io RSS / ours (at most 0.5x socket.io)`,
            measured: of(systems.socketIo).rss.median / of(system).rss.median,
            atLeast: 2,
          },
        ]),
      },
    ];
  } finally {
    await load.stop();
  }
}
