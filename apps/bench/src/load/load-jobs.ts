/** What the bench asks of a load process, and what it answers. */
import type { WireName } from "./wires.js";

export type LoadJob =
  | {
      readonly type: "open";
      readonly wire: WireName;
      /** Connection k goes to urls[k % urls.length]. */
      readonly urls: readonly string[];
      readonly count: number;
      readonly payloadBytes: number;
      /** Source addresses to spread connections over (each gives its own port range). */
      readonly localAddresses?: readonly string[];
      /** Connections opening at once. */
      readonly concurrency: number;
    }
  | { readonly type: "echo"; readonly inflight: number; readonly payloadBytes: number; readonly warmupMs: number }
  | {
      readonly type: "broadcast";
      readonly messages: number;
      readonly payloadBytes: number;
      /** Ask for the next broadcast only once the asking connection has the previous one. */
      readonly paced: boolean;
    }
  | { readonly type: "relay"; readonly payloadBytes: number; readonly warmupMs: number }
  /** Every connection sends one echo at once; the answers that came within `timeoutMs` are counted. */
  | { readonly type: "echo-each"; readonly payloadBytes: number; readonly timeoutMs: number }
  | { readonly type: "go"; readonly durationMs: number }
  | { readonly type: "status" }
  | { readonly type: "close" };

export interface Latencies {
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export type LoadReport =
  | { readonly type: "opened"; readonly count: number; readonly failed: number; readonly firstError?: string }
  | { readonly type: "warm" }
  | { readonly type: "echo-result"; readonly requests: number; readonly seconds: number; readonly latency: Latencies; readonly failures: number }
  | { readonly type: "broadcast-result"; readonly deliveries: number; readonly seconds: number; readonly failures: number }
  | { readonly type: "relay-result"; readonly roundTrips: number; readonly seconds: number; readonly latency: Latencies; readonly failures: number }
  | { readonly type: "echo-each-result"; readonly asked: number; readonly answered: number; readonly seconds: number }
  | { readonly type: "status"; readonly open: number; readonly failures: number; readonly firstError?: string }
  | { readonly type: "closed" }
  | { readonly type: "error"; readonly message: string };
