import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { totalOf } from "./instruction-count.js";

describe("instructions counted per echo under callgrind", () => {
  it("reads the total of a callgrind dump", () => {
    expect(totalOf("events: Ir\nsummary: 1234\n")).toBe(1234);
    expect(totalOf("events: Ir\nfn=main\n0 5\ntotals: 987654321\n")).toBe(987_654_321);
    expect(() => totalOf("events: Ir\n")).toThrow(/without a total/);
  });

  // The harness, not a figure: requests were answered in the window, and what was counted is the
  // window's alone. Node's start under callgrind alone is about 670 million instructions, so a count
  // not zeroed after the warm-up (or a dump read from the wrong file) comes out above the bound.
  // With --functions, the server's own JavaScript is named through its perf map.
  it("counts only the measured window of a running server, and names its JavaScript functions", async () => {
    const tool = fileURLToPath(new URL("../dist/instruction-count.js", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [
      tool,
      "ws",
      "1",
      "32",
      "--warmup",
      "1",
      "--measure",
      "1",
      "--connections",
      "4",
      "--functions",
      "400",
    ]);
    expect(stdout).toMatch(/^ +\d+ {2}JS:[*^~]\S* .*\/ws\/lib\/receiver\.js:\d+:\d+$/m);
    const [, perRequest, requests, total] = /: (\d+) instructions per request \((\d+) requests, (\d+) instructions counted\)/.exec(stdout) ?? [];
    expect(Number(requests)).toBeGreaterThan(0);
    expect(Number(perRequest)).toBeGreaterThan(1_000);
    expect(Number(total)).toBeGreaterThan(0);
    expect(Number(total)).toBeLessThan(400_000_000);
  }, 60_000);
});
