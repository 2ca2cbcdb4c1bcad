/** Vitest global setup: a folder for the tallies, and the summary printed when the run ends. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Tally } from "./scoreboard.js";

export function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "hubwire-e2e-"));
  process.env["HUBWIRE_E2E_SCOREBOARD"] = dir;
  return () => {
    const tallies = readdirSync(dir).flatMap((file) =>
      readFileSync(join(dir, file), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Tally),
    );
    rmSync(dir, { recursive: true, force: true });
    const malformed = tallies.filter((entry) => entry.kind === "malformed");
    const count = (outcome: string) => malformed.filter((entry) => entry.outcome === outcome).length;
    const lines = [
      "",
      "== Hubwire reliability summary",
      `malformed inputs: ${malformed.length} tried, ${count("handled")} handled cleanly, ${count("crash")} crashes, ${count("neighbour-hurt")} hurt a neighbour`,
    ];
    for (const entry of tallies) {
      if (entry.kind === "delivery") lines.push(`delivery, ${entry.case}: ${entry.sent} sent, ${entry.lost} lost, ${entry.duplicated} duplicated`);
    }
    for (const entry of tallies) {
      if (entry.kind !== "durable") continue;
      lines.push(
        `durable delivery (${entry.delivery}), ${entry.case}: ${entry.sent} sent, ${entry.toldOk} told ok, ${entry.failed} failed (${entry.failedArrived} of them arrived), ` +
          `${entry.delivered} delivered, ${entry.duplicated} duplicated, ${entry.lost} lost, ${entry.reportedLost} reported lost${entry.note === undefined ? "" : ` (${entry.note})`}`,
      );
    }
    for (const entry of tallies) {
      if (entry.kind === "timing") lines.push(`${entry.what}, ${entry.case}: ${Math.round(entry.value)} ms`);
      if (entry.kind === "figure") lines.push(`${entry.case}: ${entry.value.toFixed(2)} ${entry.unit}`);
    }
    process.stdout.write(`${lines.join("\n")}\n\n`);
  };
}
