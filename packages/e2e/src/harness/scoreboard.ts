/**
 * What the suites tally for the closing summary: malformed inputs tried and how each ended,
 * messages lost or duplicated across faults, durable delivery's sent / told ok / failed /
 * delivered / lost / reported lost per scenario, detection and recovery times. Each test process
 * appends JSON lines to a file in the run's folder; summary.ts reads them all at the end.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";

export type Tally =
  | { readonly kind: "malformed"; readonly case: string; readonly outcome: "handled" | "crash" | "neighbour-hurt" }
  | { readonly kind: "delivery"; readonly case: string; readonly sent: number; readonly lost: number; readonly duplicated: number }
  | DurableDeliveryTally
  | { readonly kind: "timing"; readonly case: string; readonly what: "detection" | "recovery" | "drain"; readonly value: number }
  | { readonly kind: "figure"; readonly case: string; readonly value: number; readonly unit: string };

/**
 * One durable-delivery scenario (#20): what the sender was told, what arrived, and what the
 * receiving node reported lost (the sum of its `DeliveryLoss.lost`).
 */
export interface DurableDeliveryTally {
  readonly kind: "durable";
  readonly case: string;
  /** The backplane's delivery mode in that run: "durable", or "pubsub" for the control run. */
  readonly delivery: string;
  readonly sent: number;
  readonly toldOk: number;
  readonly failed: number;
  /** Of those that failed, how many arrived anyway. */
  readonly failedArrived: number;
  /** Distinct messages received. */
  readonly delivered: number;
  readonly duplicated: number;
  /** Told ok and never received. */
  readonly lost: number;
  readonly reportedLost: number;
  /** Anything else worth a word (loss reasons, reconnects). */
  readonly note?: string;
}

/** Appends one tally to this process's file in the run's folder (nothing outside a vitest run of packages/e2e). */
export function tally(entry: Tally): void {
  const dir = process.env["HUBWIRE_E2E_SCOREBOARD"];
  if (dir === undefined) return;
  appendFileSync(join(dir, `tally-${process.pid}.jsonl`), `${JSON.stringify(entry)}\n`);
}
