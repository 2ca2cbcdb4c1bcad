/**
 * What the suites tally for the closing summary: malformed inputs tried and how each ended,
 * messages lost or duplicated across faults, detection and recovery times. Each test process
 * appends JSON lines to a file in the run's folder; summary.ts reads them all at the end.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";

export type Tally =
  | { readonly kind: "malformed"; readonly case: string; readonly outcome: "handled" | "crash" | "neighbour-hurt" }
  | { readonly kind: "delivery"; readonly case: string; readonly sent: number; readonly lost: number; readonly duplicated: number }
  | { readonly kind: "timing"; readonly case: string; readonly what: "detection" | "recovery" | "drain"; readonly value: number }
  | { readonly kind: "figure"; readonly case: string; readonly value: number; readonly unit: string };

export function tally(entry: Tally): void {
  const dir = process.env["HUBWIRE_E2E_SCOREBOARD"];
  if (dir === undefined) return;
  appendFileSync(join(dir, `tally-${process.pid}.jsonl`), `${JSON.stringify(entry)}\n`);
}
