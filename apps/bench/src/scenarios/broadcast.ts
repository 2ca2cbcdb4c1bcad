/**
 * (2) Broadcast fan-out: one connection asks for M broadcasts; every one of N clients must get
 * all M. Twice: asked for back to back, and one at a time (the next once the asker has the last).
 */
import { LoadProcess, type ServerProcess } from "../child-processes.js";
import { figureOf, formatFigure, formatRatio } from "../figures.js";
import type { Section } from "../report.js";
import { interleave, log, openAll, withServers } from "../runs.js";
import type { Settings } from "../settings.js";
import { onBunNote, type System, systems, versusNode } from "../systems.js";

interface BroadcastRun {
  readonly deliveriesPerSecond: number;
  readonly allHaveAllMs: number;
  readonly cpuMsPer100k: number;
}

/** One measured broadcast (also used by the socket.io-clients scenario); `paced`: one at a time. */
export async function measureBroadcast(system: System, server: ServerProcess, load: LoadProcess, settings: Settings, paced: boolean): Promise<BroadcastRun> {
  const { clients, messages, payloadBytes } = settings.broadcast;
  await openAll(load, { type: "open", wire: system.wire, urls: [server.url], count: clients, payloadBytes, concurrency: 64 });
  try {
    await load.run({ type: "broadcast", messages, payloadBytes, paced }, "warm");
    const before = await server.stats();
    const result = await load.run({ type: "go", durationMs: 0 }, "broadcast-result");
    const after = await server.stats();
    if (result.failures > 0) throw new Error(`${system.name}: ${result.failures} connections failed during the broadcast.`);
    const run = {
      deliveriesPerSecond: result.deliveries / result.seconds,
      allHaveAllMs: result.seconds * 1000,
      cpuMsPer100k: ((after.cpuUs - before.cpuUs) / 1000 / result.deliveries) * 100_000,
    };
    log(
      `  ${system.name}: ${Math.round(run.deliveriesPerSecond)} deliveries/s, all had all after ${run.allHaveAllMs.toFixed(0)} ms, ${run.cpuMsPer100k.toFixed(0)} ms CPU per 100k`,
    );
    return run;
  } finally {
    await load.run({ type: "close" }, "closed");
  }
}

export async function broadcastScenario(settings: Settings): Promise<Section[]> {
  const { clients, messages, payloadBytes } = settings.broadcast;
  const subjects: System[] = [
    systems.ws,
    systems.wsFrameOnce,
    systems.hubwireJson,
    systems.hubwireMessagePack,
    systems.socketIo,
    systems.hubwireJsonOnBun,
    systems.hubwireMessagePackOnBun,
    systems.socketIoOnBun,
  ];
  const maxFiles = clients * 2 + 1024;
  const load = LoadProcess.start(maxFiles);
  const sections: Section[] = [];
  try {
    for (const paced of [false, true]) {
      const how = paced ? "one at a time" : "back to back";
      log(`broadcast ${how}: ${clients} clients, ${messages} messages of ${payloadBytes} B`);
      const runs = await interleave(subjects, settings.runs, (system) =>
        withServers([system.server], ([server]) => measureBroadcast(system, server!, load, settings, paced), maxFiles),
      );
      const figures = new Map(
        [...runs].map(([system, results]) => [
          system,
          {
            rate: figureOf(results.map((run) => run.deliveriesPerSecond)),
            allMs: figureOf(results.map((run) => run.allHaveAllMs)),
            cpu: figureOf(results.map((run) => run.cpuMsPer100k)),
          },
        ]),
      );
      const of = (system: System) => figures.get(system)!;
      sections.push({
        title: `Broadcast, ${how}: ${clients.toLocaleString("en-US")} clients, ${messages} messages of ${payloadBytes} B`,
        intro: `${
          paced
            ? "The asking client sends the next broadcast request only when it has received the previous broadcast, so each broadcast leaves the server on its own; the time runs until every client has every message."
            : "One client sends all the broadcast requests back to back; the time runs until every client has every message. Raw ws is measured twice: `send` in a loop (ws frames the message once per client) and framing once then writing that frame to every socket, as socket.io does. Hubwire writes what a connection is sent within one event-loop turn as one frame, so here many broadcasts share a frame."
        } ${onBunNote}`,
        head: ["system", "deliveries/s", "ms until all have all", "server CPU ms per 100k deliveries", "vs raw ws frame once", "vs the same on Node"],
        rows: subjects.map((system) => [
          system.name,
          formatFigure(of(system).rate),
          formatFigure(of(system).allMs),
          formatFigure(of(system).cpu),
          formatRatio(of(system).rate, of(systems.wsFrameOnce).rate),
          versusNode(system, (each) => of(each).rate),
        ]),
        goals: [systems.hubwireJson, systems.hubwireMessagePack].flatMap((system) => [
          {
            text: `broadcast ${how}, ${system.name}: deliveries/s vs raw ws frame once`,
            measured: of(system).rate.median / of(systems.wsFrameOnce).rate.median,
            atLeast: 0.9,
          },
          {
            text: `broadcast ${how}, ${system.name}: deliveries/s vs socket.io`,
            measured: of(system).rate.median / of(systems.socketIo).rate.median,
            atLeast: 1,
          },
        ]),
      });
    }
  } finally {
    await load.stop();
  }
  return sections;
}
