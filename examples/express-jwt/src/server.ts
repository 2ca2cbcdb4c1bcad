#!/usr/bin/env node
// The Express + JWT example: PORT (default 5000), HOST (default 127.0.0.1), JWT_SECRET (32 bytes
// or more; without it a random one for this run), ADMIN_USERS (comma-separated, default "admin").
import { randomBytes } from "node:crypto";
import { startServer } from "./app.js";

let secret = process.env["JWT_SECRET"];
if (secret === undefined || secret === "") {
  secret = randomBytes(32).toString("base64");
  console.warn("JWT_SECRET is not set: using a random secret, so tokens stop working when this process ends.");
}
const running = await startServer({
  secret,
  port: Number(process.env["PORT"] ?? 5000),
  host: process.env["HOST"] ?? "127.0.0.1",
  adminUsers: (process.env["ADMIN_USERS"] ?? "admin").split(",").map((user) => user.trim()),
});
console.log(`Express + JWT example at ${running.url}: POST /token { "user": "ada" }, then connect to ${running.url}/inbox with the token.`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void running.close().then(() => process.exit(0)));
}
