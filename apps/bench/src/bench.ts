#!/usr/bin/env node
/**
 * `npm run bench`: every system side by side in one run, each figure the median of 3 runs, and
 * the results written into docs/benchmarks.md between its bench markers.
 *
 *   --quick         a smoke run (tiny sizes, 1 run) that proves the harness; writes nothing
 *   --only a,b      only these scenarios (echo, broadcast, idle-memory, cross-node, long-polling,
 *                   bundle-size, max-connections)
 *   --json          print the sections as JSON on stdout
 *
 * BENCH_SERVER_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the measured servers.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { renderGoals, renderSection, type Section } from "./report.js";
import { log } from "./runs.js";
import { broadcastScenario } from "./scenarios/broadcast.js";
import { bundleSizeScenario } from "./scenarios/bundle-size.js";
import { crossNodeScenario } from "./scenarios/cross-node.js";
import { echoScenario } from "./scenarios/echo.js";
import { idleMemoryScenario } from "./scenarios/idle-memory.js";
import { longPollingScenario } from "./scenarios/long-polling.js";
import { maxConnectionsScenario } from "./scenarios/max-connections.js";
import { fullSettings, quickSettings, type Settings } from "./settings.js";

const scenarios: Record<string, (settings: Settings) => Promise<Section[]> | Section[]> = {
  echo: echoScenario,
  broadcast: broadcastScenario,
  "idle-memory": idleMemoryScenario,
  "cross-node": crossNodeScenario,
  "long-polling": longPollingScenario,
  "bundle-size": bundleSizeScenario,
  "max-connections": maxConnectionsScenario,
};

const args = process.argv.slice(2);
const settings = args.includes("--quick") ? quickSettings : fullSettings;
const onlyAt = args.indexOf("--only");
const only = onlyAt === -1 ? Object.keys(scenarios) : (args[onlyAt + 1] ?? "").split(",");
for (const name of only) if (!(name in scenarios)) throw new Error(`Unknown scenario '${name}'; known: ${Object.keys(scenarios).join(", ")}.`);

const started = Date.now();
const sections: Section[] = [];
for (const name of only) sections.push(...(await scenarios[name]!(settings)));
log(`bench done in ${((Date.now() - started) / 1000).toFixed(0)} s`);

if (args.includes("--json")) {
  console.log(JSON.stringify(sections));
} else {
  console.log(sections.map(renderSection).join("\n"));
}

if (!settings.quick) {
  const command = `npm run bench${onlyAt === -1 ? "" : ` -- --only ${only.join(",")}`}`;
  const machine = `${cpus().length} x ${cpus()[0]?.model.trim() ?? "unknown CPU"}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
  const generated = [
    "<!-- bench:start (written by apps/bench; edit outside the markers) -->",
    `Measured by \`${command}\` on ${machine}; ${settings.runs} runs per figure, shown as median (min-max).`,
    "",
    "### Goals",
    "",
    renderGoals(sections),
    "",
    ...sections.map(renderSection),
    "<!-- bench:end -->",
  ].join("\n");
  const path = fileURLToPath(new URL("../../../docs/benchmarks.md", import.meta.url));
  const current = readFileSync(path, "utf8");
  const start = current.indexOf("<!-- bench:start");
  const end = current.indexOf("<!-- bench:end -->");
  if (start === -1 || end === -1) throw new Error(`${path} has no bench markers.`);
  writeFileSync(path, current.slice(0, start) + generated + current.slice(end + "<!-- bench:end -->".length));
  log(`wrote ${path}`);
}
