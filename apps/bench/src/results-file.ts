/**
 * Where the bench keeps its findings: docs/benchmarks.json holds the latest sections of every
 * scenario with the command and machine that measured them, and the block between the bench
 * markers of docs/benchmarks.md is rendered from it. A run of some scenarios (`--only`) replaces
 * theirs and keeps the others'.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderGoals, renderSection, type Section } from "./report.js";

/** One scenario's latest findings. */
export interface ScenarioResults {
  /** The command that measured it, and where and when. */
  readonly measuredBy: string;
  readonly machine: string;
  readonly runs: number;
  readonly sections: readonly Section[];
}

const docs = (name: string) => fileURLToPath(new URL(`../../../docs/${name}`, import.meta.url));
const START = "<!-- bench:start";
const END = "<!-- bench:end -->";

/**
 * Stores `measured` (by scenario name) over what was kept before, and rewrites the Markdown block
 * with every scenario in `order`. Returns the Markdown file's path.
 */
export function recordResults(measured: Readonly<Record<string, ScenarioResults>>, order: readonly string[]): string {
  const dataPath = docs("benchmarks.json");
  const kept = existsSync(dataPath) ? (JSON.parse(readFileSync(dataPath, "utf8")) as Record<string, ScenarioResults>) : {};
  const all: Record<string, ScenarioResults> = {};
  for (const name of order) {
    const results = measured[name] ?? kept[name];
    if (results !== undefined) all[name] = results;
  }
  writeFileSync(dataPath, `${JSON.stringify(all, null, 2)}\n`);

  const entries = Object.values(all);
  const provenance = (results: ScenarioResults) =>
    `Measured by \`${results.measuredBy}\` on ${results.machine}; ${results.runs} runs per figure, shown as median (min-max).`;
  const shared = entries.every((results) => provenance(results) === provenance(entries[0]!));
  const block = [
    `${START} (written by apps/bench from docs/benchmarks.json; edit outside the markers) -->`,
    ...(shared && entries.length > 0 ? [provenance(entries[0]!), ""] : ["Each scenario below says which run measured it.", ""]),
    "### Goals",
    "",
    renderGoals(entries.flatMap((results) => results.sections)),
    "",
    ...entries.flatMap((results) => [...(shared ? [] : [`_${provenance(results)}_`, ""]), ...results.sections.map(renderSection)]),
    END,
  ].join("\n");

  const markdownPath = docs("benchmarks.md");
  const current = readFileSync(markdownPath, "utf8");
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  if (start === -1 || end === -1) throw new Error(`${markdownPath} has no bench markers.`);
  writeFileSync(markdownPath, current.slice(0, start) + block + current.slice(end + END.length));
  return markdownPath;
}
