/**
 * The instructions one echo costs a server, counted rather than timed: the server runs under
 * valgrind's callgrind, the bench's load process drives the echo over real sockets, and the
 * count covers only the measured window (zeroed after the warm-up, dumped at its end). With
 * `--single-threaded` (V8 compiles and collects garbage on the main thread, so those count too),
 * what one run counts is what the next counts within a few percent, however busy the machine is,
 * where CPU time per call moves by up to 2x between runs here (docs/benchmarks.md). It counts
 * user-space instructions only: not the kernel's work, not cache misses, so it says how much work
 * a server does, not how long that work takes; the scenarios' time figures still judge that.
 *
 * Under callgrind a server runs about 75x slower, so one count takes a minute (most of it the
 * warm-up, which must see V8 optimize the hot path at that speed).
 *
 * @example
 * ```sh
 * node apps/bench/dist/instruction-count.js hubwireJson 1 1024    # system (systems.ts), calls in flight, payload bytes
 * node apps/bench/dist/instruction-count.js socketIo 16 32 --warmup 30 --measure 10
 * node apps/bench/dist/instruction-count.js hubwireJson 1 32 --functions 40   # and where they went
 * ```
 *
 * With `--functions N` the server also runs with `--perf-basic-prof`, and the N functions with the
 * most instructions of their own per request follow the total, V8's compiled code named through
 * its perf map (callgrind-functions.ts).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { functionCosts, topFunctions } from "./callgrind-functions.js";
import { LoadProcess, ServerProcess } from "./child-processes.js";
import { openAll } from "./runs.js";
import { type System, systems } from "./systems.js";

/** One count: the requests answered in the measured window, and the instructions each cost on average. */
export interface InstructionCount {
  readonly requests: number;
  readonly instructionsPerRequest: number;
  /** When asked for: the costliest functions by their own instructions per request, costliest first. */
  readonly functions?: ReadonlyArray<readonly [name: string, instructionsPerRequest: number]>;
}

export interface InstructionCountOptions {
  readonly connections: number;
  readonly inflight: number;
  readonly payloadBytes: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  /** How many of the costliest functions to name; none when absent. */
  readonly functions?: number;
}

/** The callgrind total in a dump file (its `totals:` line, or `summary:` in older formats). */
export function totalOf(dump: string): number {
  const match = /^(?:totals|summary): (\d+)/m.exec(dump);
  if (match === null) throw new Error("A callgrind dump without a total.");
  return Number(match[1]);
}

/** Counts the instructions per echo of `system`'s server (a Node server) over `options.measureMs`, after a warm-up. */
export async function countInstructions(system: System, options: InstructionCountOptions): Promise<InstructionCount> {
  if (system.server.runtime !== undefined && system.server.runtime !== "node") throw new Error(`${system.name}: only Node servers run under callgrind.`);
  assertValgrind();
  const dir = mkdtempSync(join(tmpdir(), "hubwire-callgrind-"));
  const load = LoadProcess.start();
  let server: ServerProcess | undefined;
  try {
    server = await ServerProcess.start(system.server, 4096, {
      // No dump of its own until asked (the window's), and none of valgrind's chatter on stderr.
      wrapper: ["valgrind", "--tool=callgrind", "--quiet", "--dump-instr=no", `--callgrind-out-file=${join(dir, "callgrind.out")}`],
      nodeFlags: options.functions === undefined ? ["--single-threaded"] : ["--single-threaded", "--perf-basic-prof"],
    });
    await openAll(load, {
      type: "open",
      wire: system.wire,
      urls: [server.url],
      count: options.connections,
      payloadBytes: options.payloadBytes,
      concurrency: 16,
    });
    await load.run({ type: "echo", inflight: options.inflight, payloadBytes: options.payloadBytes, warmupMs: options.warmupMs }, "warm");
    callgrindControl("--zero", server.pid);
    const result = await load.run({ type: "go", durationMs: options.measureMs }, "echo-result");
    callgrindControl("--dump", server.pid);
    await load.run({ type: "close" }, "closed");
    if (result.failures > 0) throw new Error(`${system.name}: ${result.failures} connections failed during the count.`);
    if (result.requests === 0) throw new Error(`${system.name}: no request was answered in the measured window.`);
    // The explicit dump is the first numbered file; the one written at exit (unnumbered) counts from it on.
    const dumps = readdirSync(dir).filter((name) => /^callgrind\.out\.\d+$/.test(name));
    if (dumps.length !== 1) throw new Error(`Expected one callgrind dump of the measured window, found ${dumps.length}.`);
    const dump = readFileSync(join(dir, dumps[0]!), "utf8");
    const count = { requests: result.requests, instructionsPerRequest: totalOf(dump) / result.requests };
    if (options.functions === undefined) return count;
    const map = perfMapOf(server.pid);
    if (!existsSync(map)) throw new Error(`The server wrote no perf map (${map}): its JavaScript cannot be named.`);
    const costs = functionCosts(dump, readFileSync(map, "utf8"));
    return { ...count, functions: topFunctions(costs, options.functions).map(([name, cost]) => [name, cost / result.requests] as const) };
  } finally {
    if (server !== undefined && options.functions !== undefined) rmSync(perfMapOf(server.pid), { force: true });
    await load.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Where V8 writes the perf map of process `pid` (callgrind runs the server in its own process, so its pid is the server's). */
const perfMapOf = (pid: number) => join("/tmp", `perf-${pid}.map`);

/** Fails with what to do when valgrind is not installed (its callgrind_control is in the same package). */
function assertValgrind(): void {
  try {
    execFileSync("valgrind", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error("Counting instructions needs valgrind (callgrind): install it, e.g. apt-get install valgrind.");
  }
}

/** Asks the callgrind run in process `pid` to zero its counts or dump them; returns once it has. */
function callgrindControl(command: "--zero" | "--dump", pid: number): void {
  execFileSync("callgrind_control", [command, String(pid)], { stdio: "ignore", timeout: 60_000 });
}

/** A positive whole number from the command line, or an error that names what was wrong. */
function positive(what: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${what} must be a positive whole number, not '${text ?? ""}'.`);
  return value;
}

function option(args: readonly string[], name: string, fallback: number): number {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? fallback : positive(`--${name}`, args[at + 1]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const [name = "", inflight = "1", bytes = "32"] = args.filter((arg, index) => !arg.startsWith("--") && !args[index - 1]?.startsWith("--"));
  const system = (systems as Record<string, System>)[name];
  if (system === undefined) throw new Error(`Name a system of systems.ts (${Object.keys(systems).join(", ")}), not '${name}'.`);
  const count = await countInstructions(system, {
    connections: option(args, "connections", 64),
    inflight: positive("Calls in flight", inflight),
    payloadBytes: positive("Payload bytes", bytes),
    warmupMs: option(args, "warmup", 30) * 1000,
    measureMs: option(args, "measure", 10) * 1000,
    ...(args.includes("--functions") ? { functions: option(args, "functions", 40) } : {}),
  });
  const total = Math.round(count.instructionsPerRequest * count.requests);
  console.log(
    `${system.name}, ${inflight} in flight, ${bytes} B: ${Math.round(count.instructionsPerRequest)} instructions per request (${count.requests} requests, ${total} instructions counted)`,
  );
  for (const [name, perRequest] of count.functions ?? []) console.log(`${Math.round(perRequest).toString().padStart(9)}  ${name}`);
}
