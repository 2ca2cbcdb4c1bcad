/**
 * Redis servers that a test starts itself, on free ports, and stops, kills, restarts or pauses by
 * pid. Nothing here touches the Redis at 127.0.0.1:6379.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Runs redis-cli against a port and returns its output. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { timeout: 10_000 });
  return stdout.trim();
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One redis-server process. */
export class RedisProcess {
  readonly port: number;
  readonly #args: readonly string[];
  readonly #dir: string;
  #child: ChildProcess | undefined;

  private constructor(port: number, args: readonly string[], dir: string) {
    this.port = port;
    this.#args = args;
    this.#dir = dir;
  }

  /** Starts redis-server on a free port (or `port`) with no persistence and DEBUG allowed locally. */
  static async start(options: { port?: number; args?: readonly string[] } = {}): Promise<RedisProcess> {
    const dir = mkdtempSync(join(tmpdir(), "hubwire-redis-"));
    const redis = new RedisProcess(options.port ?? (await freePort()), options.args ?? [], dir);
    await redis.restart();
    return redis;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the process again on the same port (after kill or stop). */
  async restart(): Promise<void> {
    if (this.#child !== undefined) throw new Error("Redis is already running.");
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--enable-debug-command",
        "local",
        "--dir",
        this.#dir,
        ...this.#args,
      ],
      { stdio: "ignore" },
    );
    this.#child = child;
    const failed = new Promise<never>((_, reject) => child.once("error", (error) => reject(new Error(`redis-server could not start: ${error.message}`))));
    child.once("exit", () => {
      if (this.#child === child) this.#child = undefined;
    });
    await Promise.race([waitFor(async () => (await redisCli(this.port, "ping")) === "PONG", 10_000, `redis-server on ${this.port}`), failed]);
  }

  /** SIGKILL: a crash. */
  async kill(): Promise<void> {
    await this.#signal("SIGKILL");
  }

  /** SIGTERM and wait for the exit. */
  async stop(): Promise<void> {
    await this.#signal("SIGTERM");
  }

  /** SIGSTOP: the process keeps its sockets but answers nothing. */
  pause(): void {
    this.#child?.kill("SIGSTOP");
  }

  /** SIGCONT after {@link RedisProcess.pause}. */
  resume(): void {
    this.#child?.kill("SIGCONT");
  }

  cli(...args: string[]): Promise<string> {
    return redisCli(this.port, ...args);
  }

  /**
   * Resolves once Redis has stopped answering (DEBUG SLEEP, a long script, SIGSTOP): a PING on a
   * probe connection of its own goes unanswered for `silentMs`. Answered PINGs are sent again.
   */
  async untilStalled(options: { silentMs?: number; timeoutMs?: number } = {}): Promise<void> {
    const silentMs = options.silentMs ?? 300;
    const timeoutMs = options.timeoutMs ?? 10_000;
    const probe = connect(this.port, "127.0.0.1");
    try {
      await new Promise<void>((resolve, reject) => {
        let silence: NodeJS.Timeout | undefined;
        let next: NodeJS.Timeout | undefined;
        let answers = 0;
        let received = "";
        let done = false;
        const deadline = setTimeout(() => finish(new Error(`Redis on ${this.port} kept answering PING for ${timeoutMs} ms.`)), timeoutMs);
        const finish = (error?: Error) => {
          if (done) return;
          done = true;
          clearTimeout(deadline);
          clearTimeout(silence);
          clearTimeout(next);
          if (error === undefined) resolve();
          else reject(error);
        };
        const ping = () => {
          if (done) return;
          const waitingFor = answers + 1;
          probe.write("PING\r\n");
          // A PONG already on the socket is read in the poll phase, before setImmediate runs: a
          // busy test process is not mistaken for a stalled Redis.
          silence = setTimeout(() => setImmediate(() => answers < waitingFor && finish()), silentMs);
        };
        probe.on("data", (chunk: Buffer) => {
          received += chunk.toString("latin1");
          for (let end = received.indexOf("\r\n"); end !== -1; end = received.indexOf("\r\n")) {
            received = received.slice(end + 2);
            answers++;
            clearTimeout(silence);
            next = setTimeout(ping, 10);
          }
        });
        probe.once("connect", ping);
        probe.once("error", (error) => finish(new Error(`The PING probe of Redis on ${this.port} failed: ${error.message}`)));
        probe.once("close", () => finish(new Error(`Redis on ${this.port} closed the PING probe.`)));
      });
    } finally {
      probe.destroy();
    }
  }

  /** Stops the process and removes its folder. */
  async dispose(): Promise<void> {
    this.resume();
    await this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
    this.#child = undefined;
  }
}

/** A Redis Cluster of `masters` masters (no replicas), made from processes on free ports. */
export class RedisCluster {
  readonly nodes: readonly RedisProcess[];

  private constructor(nodes: readonly RedisProcess[]) {
    this.nodes = nodes;
  }

  static async start(masters = 3): Promise<RedisCluster> {
    const nodes = await Promise.all(
      Array.from({ length: masters }, () => RedisProcess.start({ args: ["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"] })),
    );
    const cluster = new RedisCluster(nodes);
    await run("redis-cli", ["--cluster", "create", ...nodes.map((node) => `127.0.0.1:${node.port}`), "--cluster-replicas", "0", "--cluster-yes"], {
      timeout: 30_000,
    });
    for (const node of nodes) {
      await waitFor(async () => (await node.cli("cluster", "info")).includes("cluster_state:ok"), 20_000, `cluster node ${node.port}`);
    }
    return cluster;
  }

  get startupNodes(): Array<{ host: string; port: number }> {
    return this.nodes.map((node) => ({ host: "127.0.0.1", port: node.port }));
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.dispose()));
  }
}
