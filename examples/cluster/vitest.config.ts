import { defineConfig } from "vitest/config";

// Real sockets on a 2-core machine that may be busy with other suites: the timeouts bound hangs,
// they measure nothing.
export default defineConfig({
  test: {
    // Hubwire logs to the console by default; the tests read what clients see instead.
    env: { HUBWIRE_LOG: "silent" },
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
