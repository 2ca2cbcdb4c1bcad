#!/usr/bin/env node
// The echo sample: PORT (default 5000), HOST (default 127.0.0.1).
import { startEchoServer } from "./echo-server.js";

const echo = await startEchoServer({ port: Number(process.env["PORT"] ?? 5000), host: process.env["HOST"] ?? "127.0.0.1" });
console.log(`Echo sample at ${echo.url.replace("127.0.0.1", "localhost")} (WebSocket endpoint /ws).`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(
    signal,
    () =>
      void echo.close().then(() => {
        console.log("Echo sample stopped.");
        process.exit(0);
      }),
  );
}
