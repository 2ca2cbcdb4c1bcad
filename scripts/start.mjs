#!/usr/bin/env node
// `npm start`: builds what the chat sample needs (turbo skips what is up to date), then runs it
// on the in-memory default. Set REDIS_URL to share rooms with other nodes, PORT to move it.
// `npm run start:bun` (--bun): the same sample served by Bun, with the bun binary from npm.
// `npm run start:echo` (--echo): the raw WebSocket echo sample (PORT, default 5000).
// Stopping this process (Ctrl+C, or SIGTERM to its pid) stops the sample, which says so.
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" };
const sample = process.argv.includes("--echo") ? "echo" : "chat";
const built = spawnSync("npx", ["turbo", "run", "build", `--filter=@hubwire/${sample}...`, "--output-logs=errors-only"], {
  cwd: root,
  stdio: "inherit",
  env,
});
if (built.status !== 0) process.exit(built.status ?? 1);
const onBun = process.argv.includes("--bun");
const [runtime, entry] = onBun
  ? [
      createRequire(import.meta.url)
        .resolve("bun/package.json")
        .replace(/package\.json$/, "bin/bun.exe"),
      `apps/${sample}/dist/bun-server.js`,
    ]
  : [process.execPath, `apps/${sample}/dist/server.js`];
const child = spawn(runtime, [entry], { cwd: root, stdio: "inherit", env });
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
// npm does not pass a SIGTERM sent to its own pid on: it exits, and the shell between it and this
// script goes with it. This script is then re-parented; seeing that, it stops the sample itself.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) child.kill("SIGTERM");
}, 250).unref();
