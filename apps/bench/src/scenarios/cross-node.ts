/**
 * (4) Two nodes through Redis: pairs of connections, one on each node, bounce a message through
 * their groups (rooms); each round trip crosses Redis twice. The same pairs on one node without
 * Redis give the added latency. Each system goes through Redis twice over: by pub/sub, and by
 * Redis Streams (Hubwire's durable delivery, socket.io's Redis Streams adapter; issue 20).
 */
import { LoadProcess } from "../child-processes.js";
import { figureOf, formatFigure, formatRatio } from "../figures.js";
import { RedisServer } from "../redis-server.js";
import type { Section } from "../report.js";
import { interleave, log, openAll, withServers } from "../runs.js";
import type { Settings } from "../settings.js";
import { type System, systems, throughRedis, throughRedisStreams } from "../systems.js";

/** How a subject's nodes are joined: not at all (one node), by Redis pub/sub, or by Redis Streams. */
type Backplane = "none" | "pubsub" | "streams";

interface Subject {
  /** The system as measured on one node, which names the pair of rows. */
  readonly peer: System;
  readonly backplane: Backplane;
  /** What runs: `peer`, or `peer` through Redis. */
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
    // One node has no backplane to choose, so the Redis Streams modes run on two nodes only.
    const subjects: Subject[] = peers.flatMap((peer) => [
      { peer, backplane: "none" as const, system: peer, nodes: 1 as const },
      { peer, backplane: "pubsub" as const, system: throughRedis(peer, redis.url), nodes: 2 as const },
      { peer, backplane: "streams" as const, system: throughRedisStreams(peer, redis.url), nodes: 2 as const },
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
    const of = (peer: System, backplane: Backplane) => [...figures].find(([subject]) => subject.peer === peer && subject.backplane === backplane)![1];
    const nameOf = (peer: System, backplane: Backplane) => subjects.find((subject) => subject.peer === peer && subject.backplane === backplane)!.system.name;
    return [
      {
        title: `Two nodes through Redis: ${pairs} pairs`,
        intro:
          "Each pair has one connection on each node, each in its own group (room); a message goes to the partner's group, and the partner sends it back to the first one's group. Round trips per second and their latency; \"one node\" is the same without Redis. The first row of each system joins its nodes by Redis pub/sub (Hubwire's default backplane, `@socket.io/redis-adapter`), the second by Redis Streams (Hubwire's backplane with `delivery: \"durable\"`, `@socket.io/redis-streams-adapter`); a Streams row's one-node cells are empty, its added p50 is over the same system's one node, and its last column sets its two-node rate against the same system on pub/sub.",
        head: [
          "system",
          "round trips/s, one node",
          "round trips/s, two nodes",
          "p50 ms, one node",
          "p50 ms, two nodes",
          "p99 ms, two nodes",
          "added p50 ms",
          "two nodes vs pub/sub",
        ],
        rows: peers.flatMap((peer) =>
          (["pubsub", "streams"] as const).map((backplane) => {
            const [alone, joined] = [of(peer, "none"), of(peer, backplane)];
            const isPubSub = backplane === "pubsub";
            return [
              nameOf(peer, backplane),
              isPubSub ? formatFigure(alone.rate) : "",
              formatFigure(joined.rate),
              isPubSub ? formatFigure(alone.p50) : "",
              formatFigure(joined.p50),
              formatFigure(joined.p99),
              (joined.p50.median - alone.p50.median).toFixed(2),
              isPubSub ? "" : formatRatio(joined.rate, of(peer, "pubsub").rate),
            ];
          }),
        ),
        goals: [
          {
            text: "two nodes through Redis, Hubwire JSON: round trips/s vs socket.io with its Redis adapter",
            measured: of(systems.hubwireJson, "pubsub").rate.median / of(systems.socketIo, "pubsub").rate.median,
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
