/**
 * Starts the Bun hub process (`bun-hub-process.ts`) from a Node test, with the `bun` binary from
 * the npm registry's `bun` package, and answers the official-client suite's questions over HTTP.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SuiteServer } from "./official-client-suite.js";

const here = dirname(fileURLToPath(import.meta.url));

/** The bun executable the `bun` package ships. */
export function bunExecutable(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("bun/package.json")), "bin", "bun.exe");
}

/** Starts a hub on Bun; `options` are merged into the suite's hub server options (JSON only). */
export async function startOnBun(options: Record<string, unknown> = {}): Promise<SuiteServer> {
  const child = spawn(bunExecutable(), [join(here, "bun-hub-process.ts")], {
    env: { ...process.env, HUB_SERVER_OPTIONS: JSON.stringify(options) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The Bun hub did not start within 15 s:\n${output}`)), 15_000);
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /READY (\d+)/.exec(output);
      if (ready !== null) {
        clearTimeout(timer);
        resolve(Number(ready[1]));
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`The Bun hub exited (${code}) before it was ready:\n${output}`));
    });
  });
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    connectionCount: async () => (await (await fetch(`${origin}/test/connections`)).json()) as number,
    recorded: async () => (await (await fetch(`${origin}/test/recorded`)).json()) as unknown[],
    async sendToUser(userId, text) {
      const response = await fetch(`${origin}/test/send-to-user`, { method: "POST", body: JSON.stringify({ userId, text }) });
      if (response.status !== 204) throw new Error(`send-to-user answered ${response.status}`);
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
