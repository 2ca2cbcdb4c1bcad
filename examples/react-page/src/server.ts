#!/usr/bin/env node
// The React page and its hub: PORT (default 3000), HOST (default 127.0.0.1). Build first (npm run build).
import { startPageServer } from "./page-server.js";

const page = await startPageServer({ port: Number(process.env["PORT"] ?? 3000), host: process.env["HOST"] ?? "127.0.0.1" });
console.log(`React page at ${page.url.replace("127.0.0.1", "localhost")}: open it in two tabs.`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void page.close().then(() => process.exit(0)));
}
