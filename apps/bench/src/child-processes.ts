/**
 * The bench's side of its child processes: measured servers (which report their port, CPU time
 * and memory) and load generators (which take jobs). Every child gets its own file-descriptor
 * limit, as high as the scenario needs, through a shell's `ulimit`.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadJob, LoadReport } from "./load/load-jobs.js";
import type { ChildReport, ParentRequest, ServerStats } from "./server-process.js";

export const distDir = fileURLToPath(new URL(".", import.meta.url));

/** Extra Node flags for the measured servers on Node only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile them. */
const serverFlags = (process.env["BENCH_SERVER_NODE_FLAGS"] ?? "").split(" ").filter((flag) => flag !== "");

/** The runtimes a measured server can run on; the bench itself and its load generator run on Node. */
export type Runtime = "node" | "bun";

/** The bun binary of the `bun` npm package (a devDependency), so a run needs no Bun on the PATH. */
export const bunPath: string = join(dirname(createRequire(import.meta.url).resolve("bun/package.json")), "bin", "bun.exe");

/** "Node v20.19.0, Bun 1.4.5": what the figures were measured on. */
export function runtimeVersions(): string {
  return `Node ${process.version}, Bun ${execFileSync(bunPath, ["--version"], { encoding: "utf8" }).trim()}`;
}

/**
 * The most files a process may open here (the hard RLIMIT_NOFILE): only a privileged process can
 * raise it, and a sandbox may not let even root. It caps the connections one process can hold.
 */
export const fileLimit: number = (() => {
  const hard = execFileSync("bash", ["-c", "ulimit -Hn"], { encoding: "utf8" }).trim();
  return hard === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(hard);
})();

/**
 * Starts dist/`script` on `runtime` (both take `--expose-gc`, and both speak Node's IPC to this
 * process), run by `wrapper` when one is given (`valgrind --tool=callgrind ...`, say).
 */
function startScript(
  runtime: Runtime,
  script: string,
  args: readonly string[],
  maxFiles: number,
  flags: readonly string[] = [],
  wrapper: readonly string[] = [],
): ChildProcess {
  const binary = runtime === "bun" ? bunPath : process.execPath;
  const line = [...wrapper, binary, "--expose-gc", ...flags, `${distDir}${script}`, ...args];
  const command = ["ulimit", "-n", String(Math.min(maxFiles, fileLimit)), "&&", "exec", ...line.map((part) => JSON.stringify(part))].join(" ");
  return spawn("bash", ["-c", command], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));
}

export interface ServerSpec {
  /** The server script under dist/servers/, without extension. */
  readonly script: string;
  readonly args: readonly string[];
  /** What runs the script; Node unless said. */
  readonly runtime?: Runtime;
}

/** How a server process is started when not as the scenarios start it: under a wrapper, with Node flags of its own. */
export interface ServerLaunch {
  /** The command the server runs under, before the runtime's binary. */
  readonly wrapper: readonly string[];
  /** Node flags in place of `BENCH_SERVER_NODE_FLAGS`. */
  readonly nodeFlags: readonly string[];
}

export class ServerProcess {
  #nextId = 0;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  /** The server's process id (the wrapper's, which runs the server in its own process, when there is one). */
  get pid(): number {
    return this.child.pid!;
  }

  static async start(spec: ServerSpec, maxFiles = 4096, launch?: ServerLaunch): Promise<ServerProcess> {
    const runtime = spec.runtime ?? "node";
    const flags = runtime === "node" ? (launch?.nodeFlags ?? serverFlags) : [];
    const child = startScript(runtime, `servers/${spec.script}.js`, spec.args, maxFiles, flags, launch?.wrapper);
    const port = await new Promise<number>((resolve, reject) => {
      child.once("message", (report: ChildReport) => (report.type === "ready" ? resolve(report.port) : reject(new Error("Unexpected report."))));
      child.once("exit", (code) => reject(new Error(`${spec.script} (${runtime}) exited with ${code} before listening.`)));
    });
    return new ServerProcess(child, `http://127.0.0.1:${port}`);
  }

  stats(gc = false): Promise<ServerStats> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const onMessage = (report: ChildReport) => {
        if (report.type !== "stats" || report.id !== id) return;
        this.child.off("message", onMessage);
        this.child.off("exit", onExit);
        resolve(report);
      };
      const onExit = () => reject(new Error("The server exited."));
      this.child.on("message", onMessage);
      this.child.once("exit", onExit);
      this.child.send({ type: "stats", id, gc } satisfies ParentRequest);
    });
  }

  async stop(): Promise<void> {
    if (this.child.connected) this.child.send({ type: "stop" } satisfies ParentRequest);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await exited(this.child);
    clearTimeout(timer);
  }
}

type ReportOf<T extends LoadReport["type"]> = Extract<LoadReport, { type: T }>;

export class LoadProcess {
  private constructor(private readonly child: ChildProcess) {}

  static start(maxFiles = 4096): LoadProcess {
    return new LoadProcess(startScript("node", "load/load-process.js", [], maxFiles));
  }

  /** Sends a job and waits for the report it ends with; a job that hangs fails the bench loudly. */
  run<T extends LoadReport["type"]>(job: LoadJob, until: T, timeoutMs = 300_000): Promise<ReportOf<T>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.off("message", onMessage);
        reject(new Error(`Load process: no '${until}' within ${timeoutMs / 1000} s after a '${job.type}' job.`));
      }, timeoutMs);
      const onMessage = (report: LoadReport) => {
        if (report.type === "error") reject(new Error(`Load process: ${report.message}`));
        else if (report.type === until) resolve(report as ReportOf<T>);
        else return;
        clearTimeout(timer);
        this.child.off("message", onMessage);
      };
      this.child.on("message", onMessage);
      this.child.send(job);
    });
  }

  async stop(): Promise<void> {
    this.child.kill("SIGKILL");
    await exited(this.child);
  }
}
