/** Hubwire nodes in child processes (fixtures/hub-node.mjs): crash them, drain them, read their logs. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { DeliveryLoss } from "@hubwire/redis";

const script = fileURLToPath(new URL("../../fixtures/hub-node.mjs", import.meta.url));

export interface HubNodeOptions {
  readonly name?: string;
  readonly hubOptions?: Record<string, unknown>;
  readonly limits?: Record<string, number>;
  readonly redisPort?: number;
  /** More `redisLifetimeManager` options (JSON-able), e.g. `{ delivery: "durable", heartbeatIntervalMs: 250 }`. */
  readonly backplaneOptions?: Record<string, unknown>;
  readonly prefix?: string;
  readonly drainMs?: number;
  readonly port?: number;
}

export class HubNode {
  /** Every line the node printed (its log lines are JSON). */
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;

  private constructor(
    readonly process: ChildProcess,
    readonly port: number,
  ) {
    this.exited = new Promise((resolve) => process.once("exit", (code) => resolve(code)));
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get url(): string {
    return `${this.origin}/hub`;
  }

  get isAlive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  static async start(options: HubNodeOptions = {}): Promise<HubNode> {
    const child = spawn(process.execPath, ["--expose-gc", script], {
      env: {
        ...process.env,
        NODE_NAME: options.name ?? "node",
        HUB_OPTIONS: JSON.stringify(options.hubOptions ?? {}),
        LIMITS: JSON.stringify(options.limits ?? {}),
        ...(options.redisPort === undefined ? {} : { REDIS_PORT: String(options.redisPort) }),
        ...(options.backplaneOptions === undefined ? {} : { BACKPLANE_OPTIONS: JSON.stringify(options.backplaneOptions) }),
        ...(options.prefix === undefined ? {} : { PREFIX: options.prefix }),
        ...(options.drainMs === undefined ? {} : { DRAIN_MS: String(options.drainMs) }),
        ...(options.port === undefined ? {} : { PORT: String(options.port) }),
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const lines: string[] = [];
    let partial = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      partial += chunk.toString();
      const complete = partial.split("\n");
      partial = complete.pop()!;
      lines.push(...complete);
    });
    const port = await new Promise<number>((resolve, reject) => {
      const check = setInterval(() => {
        const ready = lines.find((line) => line.startsWith("READY "));
        if (ready !== undefined) {
          clearInterval(check);
          resolve(Number(ready.slice(6)));
        }
      }, 10);
      child.once("exit", (code) => {
        clearInterval(check);
        reject(new Error(`The hub node exited with ${code} before it was ready.`));
      });
    });
    const node = new HubNode(child, port);
    // Lines arrive into the node's own array from now on.
    node.lines.push(...lines);
    child.stdout!.removeAllListeners("data");
    child.stdout!.on("data", (chunk: Buffer) => {
      partial += chunk.toString();
      const complete = partial.split("\n");
      partial = complete.pop()!;
      node.lines.push(...complete);
    });
    // READY means the HTTP server listens; a node scaled out over Redis can take calls that publish
    // only once its backplane is up, which it logs (its first publish went through).
    if (options.redisPort !== undefined) {
      await node.#untilLogged("The Redis backplane is back.", 10_000).catch(async (error: unknown) => {
        await node.stop();
        throw error;
      });
    }
    return node;
  }

  async #untilLogged(message: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.logs.some((line) => line.message === message)) {
      if (!this.isAlive) throw new Error(`The hub node exited before it logged "${message}".`);
      if (Date.now() > deadline) throw new Error(`The hub node did not log "${message}" within ${timeoutMs} ms.`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Log lines (parsed), the READY line left out. */
  get logs(): Array<{ level: string; message: string; fields?: Record<string, unknown> }> {
    return this.lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as { level: string; message: string });
  }

  /** What durable delivery gave the node's `onDeliveryLoss` (logged as "onDeliveryLoss"), in order. */
  get deliveryLosses(): DeliveryLoss[] {
    return this.logs.filter((line) => line.message === "onDeliveryLoss").map((line) => line.fields as unknown as DeliveryLoss);
  }

  kill(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }

  async stop(): Promise<void> {
    if (!this.isAlive) return;
    this.process.kill("SIGKILL");
    await this.exited;
  }
}
