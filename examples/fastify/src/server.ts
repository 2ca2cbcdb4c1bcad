#!/usr/bin/env node
// The Fastify example: PORT (default 5000), HOST (default 127.0.0.1).
import { buildApp } from "./app.js";

const { app } = buildApp();
const url = await app.listen({ port: Number(process.env["PORT"] ?? 5000), host: process.env["HOST"] ?? "127.0.0.1" });
console.log(`Fastify example at ${url}: the hub at ${url}/board, POST ${url}/rooms/<room>/messages { "text": "..." }.`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  // Fastify's close runs the adapter's onClose hook, which closes the hubs.
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}
