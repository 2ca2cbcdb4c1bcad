/**
 * (8) socket.io clients on Hubwire: the same socket.io wire, answered by the bench hub through
 * `@hubwire/socket.io` and by plain socket.io handlers; the echo cases and both broadcasts, with
 * each cell's throughput and server CPU per operation as Hubwire's over socket.io's.
 */
import { LoadProcess } from "../child-processes.js";
import { type Figure, figureOf, formatFigure, formatRatio } from "../figures.js";
import type { Goal, Section } from "../report.js";
import { interleave, log, withServers } from "../runs.js";
import type { Settings } from "../settings.js";
import { type System, systems } from "../systems.js";
import { measureBroadcast } from "./broadcast.js";
import { measureEcho } from "./echo.js";

/** One cell's figures for one system: operations (requests or deliveries) per second, and server CPU per 100k of them. */
interface CellFigures {
  readonly perSecond: Figure;
  readonly cpuMsPer100k: Figure;
}

interface Cell {
  readonly label: string;
  /** What its operations are: "requests" or "deliveries". */
  readonly unit: string;
  readonly of: ReadonlyMap<System, CellFigures>;
}

/** The bound: Hubwire's path costs at most this much more than plain socket.io's. */
const mostExtraCost = 1.1;

const ours = systems.hubwireViaSocketIo;
const peer = systems.socketIo;
const subjects: readonly System[] = [ours, peer];

/** Each system's figures from its runs; `perSecond` reads a run's operations per second. */
function figuresOf<TRun extends { readonly cpuMsPer100k: number }>(runs: Map<System, TRun[]>, perSecond: (run: TRun) => number): Map<System, CellFigures> {
  return new Map(
    [...runs].map(([system, results]) => [
      system,
      { perSecond: figureOf(results.map(perSecond)), cpuMsPer100k: figureOf(results.map((run) => run.cpuMsPer100k)) },
    ]),
  );
}

function cellGoals(cell: Cell): Goal[] {
  const [mine, theirs] = [cell.of.get(ours)!, cell.of.get(peer)!];
  return [
    {
      text: `socket.io clients, ${cell.label}: throughput, Hubwire via socket.io vs socket.io`,
      measured: mine.perSecond.median / theirs.perSecond.median,
      atLeast: 1 / mostExtraCost,
    },
    {
      text: `socket.io clients, ${cell.label}: server CPU per operation, socket.io's / Hubwire via socket.io's`,
      measured: theirs.cpuMsPer100k.median / mine.cpuMsPer100k.median,
      atLeast: 1 / mostExtraCost,
    },
  ];
}

function cellRow(cell: Cell): string[] {
  const [mine, theirs] = [cell.of.get(ours)!, cell.of.get(peer)!];
  return [
    `${cell.label} (${cell.unit}/s)`,
    formatFigure(mine.perSecond),
    formatFigure(theirs.perSecond),
    formatRatio(mine.perSecond, theirs.perSecond),
    formatFigure(mine.cpuMsPer100k),
    formatFigure(theirs.cpuMsPer100k),
    formatRatio(mine.cpuMsPer100k, theirs.cpuMsPer100k),
  ];
}

export async function socketIoClientsScenario(settings: Settings): Promise<Section[]> {
  const { connections, warmupMs, durationMs } = settings.echo;
  const { clients, messages, payloadBytes: broadcastBytes } = settings.broadcast;
  const maxFiles = clients * 2 + 1024;
  const load = LoadProcess.start(maxFiles);
  const cells: Cell[] = [];
  try {
    for (const { inflight, payloadBytes } of settings.echo.cases) {
      log(`socket.io clients, echo: ${connections} connections, ${inflight} in flight, ${payloadBytes} B`);
      const runs = await interleave(subjects, settings.runs, (system) =>
        measureEcho(system, load, { connections, inflight, payloadBytes, warmupMs, durationMs }),
      );
      cells.push({
        label: `echo ${inflight} in flight, ${payloadBytes} B`,
        unit: "requests",
        of: figuresOf(runs, (run) => run.perSecond),
      });
    }
    for (const paced of [false, true]) {
      const how = paced ? "one at a time" : "back to back";
      log(`socket.io clients, broadcast ${how}: ${clients} clients, ${messages} messages of ${broadcastBytes} B`);
      const runs = await interleave(subjects, settings.runs, (system) =>
        withServers([system.server], ([server]) => measureBroadcast(system, server!, load, settings, paced), maxFiles),
      );
      cells.push({
        label: `broadcast ${how}, ${clients.toLocaleString("en-US")} clients`,
        unit: "deliveries",
        of: figuresOf(runs, (run) => run.deliveriesPerSecond),
      });
    }
  } finally {
    await load.stop();
  }
  return [
    {
      title: `socket.io clients on Hubwire: ${connections} connections echoing, ${clients.toLocaleString("en-US")} clients receiving ${messages} broadcasts of ${broadcastBytes} B`,
      intro:
        "The same socket.io 4 wire (engine.io over a WebSocket, what socket.io-client 4.8 sends for `emitWithAck(\"echo\", payload)` and `emit(\"broadcast\", payload)`) against two servers: the bench hub served through `@hubwire/socket.io` on socket.io's main namespace, and plain socket.io handlers doing the same work (`ack(payload)`, `io.emit`). The echo and broadcast cells are shaped as in their own scenarios. Each ratio is Hubwire via socket.io's figure over plain socket.io's: throughput (higher is better) and the server process's CPU time (user + system) per operation (lower is better). " +
        `The goal is that Hubwire's path costs at most ${Math.round((mostExtraCost - 1) * 100)}% more than plain socket.io's, or less: each goal line asks for at least 1/${mostExtraCost} of socket.io's figure, CPU taken as socket.io's over Hubwire's.`,
      head: [
        "cell",
        "Hubwire via socket.io /s",
        "socket.io 4.8 /s",
        "throughput ratio",
        "server CPU ms per 100k: Hubwire via socket.io",
        "socket.io 4.8",
        "CPU ratio",
      ],
      rows: cells.map(cellRow),
      goals: cells.flatMap(cellGoals),
    },
  ];
}
