#!/usr/bin/env node
// The hub for the client script: PORT (default 5000), HOST (default 127.0.0.1).
import { startHubServer } from "./hub-server.js";

const hub = await startHubServer({ port: Number(process.env["PORT"] ?? 5000), host: process.env["HOST"] ?? "127.0.0.1" });
console.log(`ChatHub at ${hub.url}: run 'npm run client -- ${hub.url}' in another terminal.`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void hub.close().then(() => process.exit(0)));
}
