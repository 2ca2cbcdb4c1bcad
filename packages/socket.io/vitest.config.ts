import { defineConfig } from "vitest/config";

// Real servers and a real Chromium: timeouts bound hangs and measure nothing.
export default defineConfig({
  test: {
    env: { HUBWIRE_LOG: "silent" },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
