import { defineConfig } from "vitest/config";

// Real sockets, real processes and real Redis: on a 2-core machine under load a round trip can
// take far longer than usual, so timeouts here are generous. They bound hangs; they measure nothing.
export default defineConfig({
  test: {
    // Servers log to the console by default; the suites check log lines through loggers of their own.
    env: { HUBWIRE_LOG: "silent" },
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
