/**
 * (4) Two nodes through Redis: pairs of connections, one on each node, bounce a message through
 * their groups (rooms); each round trip crosses Redis twice. The same pairs on one node without
 * Redis give the added latency.
 */
import { LoadProcess } from "../child-processes.js";
import { figureOf, formatFigure } from "../figures.js";
import { RedisServer } from "../redis-server.js";
import type { Section } from "../report.js";
import { interleave, log, openAll, withServers } from "../runs.js";
import type { Settings } from "../settings.js";
import { type System, systems, throughRedis } from "../systems.js";

interface Subject {
  readonly system: System;
  readonly nodes: 1 | 2;
}

export async function crossNodeScenario(settings: Settings): Promise<Section[]> {
  const { pairs, payloadBytes, warmupMs, durationMs } = settings.relay;
  const redis = await RedisServer.start();
  const load = LoadProcess.start();
  log(`cross-node: ${pairs} pairs through Redis`);
  try {
    const peers = [systems.hubwireJson, systems.socketIo];
    const subjects: Subject[] = peers.flatMap((system) => [
      { system, nodes: 1 as const },
      { system: throughRedis(system, redis.url), nodes: 2 as const },
    ]);
    const runs = await interleave(subjects, settings.runs, ({ system, nodes }) =>
      withServers(
        Array.from({ length: nodes }, () => system.server),
        async (servers) => {
          await openAll(load, { type: "open", wire: system.wire, urls: servers.map((server) => server.url), count: pairs * 2, payloadBytes, concurrency: 16 });
          try {
            await load.run({ type: "relay", payloadBytes, warmupMs }, "warm");
            const result = await load.run({ type: "go", durationMs }, "relay-result");
            if (result.failures > 0) throw new Error(`${system.name}: ${result.failures} connections failed during the relay.`);
            if (result.roundTrips === 0) throw new Error(`${system.name}: no message came back.`);
            const run = { perSecond: result.roundTrips / result.seconds, p50Ms: result.latency.p50Ms, p99Ms: result.latency.p99Ms };
            log(`  ${system.name}, ${nodes} node(s): ${Math.round(run.perSecond)} round trips/s, p50 ${run.p50Ms.toFixed(2)} ms`);
            return run;
          } finally {
            await load.run({ type: "close" }, "closed");
          }
        },
      ),
    );
    const figures = new Map(
      [...runs].map(([subject, results]) => [
        subject,
        { rate: figureOf(results.map((run) => run.perSecond)), p50: figureOf(results.map((run) => run.p50Ms)), p99: figureOf(results.map((run) => run.p99Ms)) },
      ]),
    );
    const of = (system: System, nodes: 1 | 2) => [...figures].find(([subject]) => subject.system.name === system.name && subject.nodes === nodes)![1];
    return [
      {
        title: `Two nodes through Redis: ${pairs} pairs`,
        intro:
          "Each pair has one connection on each node, each in its own group (room); a message goes to the partner's group, and the partner sends it back to the first one's group. Round trips per second and their latency; \"one node\" is the same without Redis.",
        head: ["system", "round trips/s, one node", "round trips/s, two nodes", "p50 ms, one node", "p50 ms, two nodes", "p99 ms, two nodes", "added p50 ms"],
        rows: peers.map((system) => [
          system.name,
          formatFigure(of(system, 1).rate),
          formatFigure(of(system, 2).rate),
          formatFigure(of(system, 1).p50),
          formatFigure(of(system, 2).p50),
          formatFigure(of(system, 2).p99),
          (of(system, 2).p50.median - of(system, 1).p50.median).toFixed(2),
        ]),
        goals: [
          {
            text: "two nodes through Redis, Hubwire JSON: round trips/s vs socket.io with its Redis adapter",
            measured: of(systems.hubwireJson, 2).rate.median / of(systems.socketIo, 2).rate.median,
            atLeast: 1.5,
          },
        ],
      },
    ];
  } finally {
    await load.stop();
    await redis.stop();
  }
}
