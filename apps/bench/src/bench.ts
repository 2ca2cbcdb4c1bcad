#!/usr/bin/env node
/**
 * `npm run bench`: every system side by side in one run, each figure the median of 3 runs, and
 * the results kept in docs/benchmarks.json and written into docs/benchmarks.md between its bench
 * markers (a run of some scenarios replaces only theirs).
 *
 *   --quick         a smoke run (tiny sizes, 1 run) that proves the harness; writes nothing
 *   --no-write      full sizes, but only prints the tables: docs/ stays as it was
 *   --only a,b      only these scenarios (echo, broadcast, idle-memory, cross-node, long-polling,
 *                   socketio-clients, bundle-size, max-connections, max-connections-cluster)
 *   --json          print the sections as JSON on stdout
 *
 * BENCH_SERVER_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the measured servers on Node.
 */
import { cpus } from "node:os";
import { runtimeVersions } from "./child-processes.js";
import { renderSection, type Section } from "./report.js";
import { recordResults, type ScenarioResults } from "./results-file.js";
import { log } from "./runs.js";
import { broadcastScenario } from "./scenarios/broadcast.js";
import { bundleSizeScenario } from "./scenarios/bundle-size.js";
import { crossNodeScenario } from "./scenarios/cross-node.js";
import { echoScenario } from "./scenarios/echo.js";
import { idleMemoryScenario } from "./scenarios/idle-memory.js";
import { longPollingScenario } from "./scenarios/long-polling.js";
import { maxConnectionsScenario } from "./scenarios/max-connections.js";
import { maxConnectionsClusterScenario } from "./scenarios/max-connections-cluster.js";
import { socketIoClientsScenario } from "./scenarios/socketio-clients.js";
import { fullSettings, quickSettings, type Settings } from "./settings.js";

const scenarios: Record<string, (settings: Settings) => Promise<Section[]> | Section[]> = {
  echo: echoScenario,
  broadcast: broadcastScenario,
  "idle-memory": idleMemoryScenario,
  "cross-node": crossNodeScenario,
  "long-polling": longPollingScenario,
  "socketio-clients": socketIoClientsScenario,
  "bundle-size": bundleSizeScenario,
  "max-connections": maxConnectionsScenario,
  "max-connections-cluster": maxConnectionsClusterScenario,
};

const args = process.argv.slice(2);
const settings = args.includes("--quick") ? quickSettings : fullSettings;
const onlyAt = args.indexOf("--only");
const only = onlyAt === -1 ? Object.keys(scenarios) : (args[onlyAt + 1] ?? "").split(",");
for (const name of only) if (!(name in scenarios)) throw new Error(`Unknown scenario '${name}'; known: ${Object.keys(scenarios).join(", ")}.`);

const started = Date.now();
const sections: Section[] = [];
const byScenario: Record<string, readonly Section[]> = {};
for (const name of only) sections.push(...(byScenario[name] = await scenarios[name]!(settings)));
log(`bench done in ${((Date.now() - started) / 1000).toFixed(0)} s`);

if (args.includes("--json")) {
  console.log(JSON.stringify(sections));
} else {
  console.log(sections.map(renderSection).join("\n"));
}

if (!settings.quick && !args.includes("--no-write")) {
  const measuredBy = `npm run bench${onlyAt === -1 ? "" : ` -- --only ${only.join(",")}`}`;
  const machine = `${cpus().length} x ${cpus()[0]?.model.trim() ?? "unknown CPU"}, ${runtimeVersions()}, ${new Date().toISOString().slice(0, 10)}`;
  const measured: Record<string, ScenarioResults> = {};
  for (const name of only) measured[name] = { measuredBy, machine, runs: settings.runs, sections: byScenario[name]! };
  log(`wrote ${recordResults(measured, Object.keys(scenarios))}`);
}
