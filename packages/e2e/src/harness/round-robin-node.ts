/** Hubwire nodes for the round-robin suite (round-robin-node.mjs) in child processes, scaled out over one Redis. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("./round-robin-node.mjs", import.meta.url));

export interface RoundRobinNodeOptions {
  readonly name: string;
  readonly redisPort: number;
  readonly prefix: string;
  readonly hubOptions?: Record<string, unknown>;
}

export interface RoundRobinNode {
  readonly name: string;
  readonly port: number;
  /** Every line the node printed (its log lines are JSON). */
  readonly lines: readonly string[];
  stop(): Promise<void>;
}

/** Starts a node; resolves once it listens and its Redis backplane works (its first publish went through). */
export async function startRoundRobinNode(options: RoundRobinNodeOptions): Promise<RoundRobinNode> {
  const child: ChildProcess = spawn(process.execPath, [script], {
    env: {
      ...process.env,
      NODE_NAME: options.name,
      REDIS_PORT: String(options.redisPort),
      PREFIX: options.prefix,
      HUB_OPTIONS: JSON.stringify(options.hubOptions ?? {}),
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
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const isAlive = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (!isAlive()) return;
    child.kill("SIGKILL");
    await exited;
  };
  const deadline = Date.now() + 10_000;
  const backplaneUp = () => lines.some((line) => line.startsWith("{") && (JSON.parse(line) as { message?: string }).message === "The Redis backplane is back.");
  let port: number | undefined;
  while (port === undefined || !backplaneUp()) {
    if (!isAlive()) throw new Error(`Node ${options.name} exited before it was ready:\n${lines.join("\n")}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Node ${options.name} was not ready (listening, Redis backplane up) within 10 s:\n${lines.join("\n")}`);
    }
    const ready = lines.find((line) => line.startsWith("READY "));
    if (ready !== undefined) port = Number(ready.slice(6));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { name: options.name, port, lines, stop };
}
