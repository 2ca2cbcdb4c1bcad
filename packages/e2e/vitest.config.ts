import { defineConfig } from "vitest/config";

// Real processes, sockets and Redis on a 2-core machine: timeouts bound hangs and measure nothing.
// The suites run one file at a time so that load tests do not starve each other.
export default defineConfig({
  test: {
    // Servers log to the console by default; the suites check log lines through loggers of their own.
    env: { HUBWIRE_LOG: "silent" },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    globalSetup: ["./src/harness/summary.ts"],
  },
});
