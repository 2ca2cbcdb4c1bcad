/** Hubwire nodes in child processes (test/hub-node.mjs), scaled out through one Redis. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("../../test/hub-node.mjs", import.meta.url));

export interface HubNode {
  readonly name: string;
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export async function startHubNode(name: string, redisPort: number, prefix: string): Promise<HubNode> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, REDIS_PORT: String(redisPort), PREFIX: prefix, NODE_NAME: name },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /READY (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`Node ${name} exited with ${code} before it was ready.`)));
  });
  return {
    name,
    port,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3_000).unref();
      }),
  };
}
