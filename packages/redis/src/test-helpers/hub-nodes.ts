/** Hubwire nodes in child processes (test/hub-node.mjs), scaled out through one Redis. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("../../test/hub-node.mjs", import.meta.url));

export interface HubNode {
  readonly name: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** What the node printed as `LOSS <json>` (durable delivery's losses), parsed. */
  readonly losses: Array<{ reason: string; lost: number | null; closedConnections: number }>;
  stop(): Promise<void>;
}

/** `env`: more settings for test/hub-node.mjs (`DELIVERY`, `PUBLISH_TIMEOUT_MS`...). */
export async function startHubNode(name: string, redisPort: number, prefix: string, env: Record<string, string> = {}): Promise<HubNode> {
  const losses: HubNode["losses"] = [];
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, REDIS_PORT: String(redisPort), PREFIX: prefix, NODE_NAME: name, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let output = "";
    let lines = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /READY (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
      lines += chunk.toString();
      for (let end = lines.indexOf("\n"); end !== -1; end = lines.indexOf("\n")) {
        const line = lines.slice(0, end);
        lines = lines.slice(end + 1);
        if (line.startsWith("LOSS ")) losses.push(JSON.parse(line.slice(5)));
      }
    });
    child.once("exit", (code) => reject(new Error(`Node ${name} exited with ${code} before it was ready.`)));
  });
  return {
    name,
    port,
    process: child,
    losses,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3_000).unref();
      }),
  };
}
