#!/usr/bin/env node
// `npm start`: runs the chat sample (apps/chat) on the in-memory default, no Redis needed.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const chat = fileURLToPath(new URL("../apps/chat/package.json", import.meta.url));
if (!existsSync(chat)) {
  console.log("The chat sample is not built yet (apps/chat, issue 8). Meanwhile `npm test` runs the suite.");
  process.exit(0);
}
const child = spawn("npm", ["start", "--workspace", "apps/chat"], { stdio: "inherit" });
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
