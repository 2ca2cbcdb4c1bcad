import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { Section } from "./report.js";

// The smoke run keeps the harness working: every system starts, speaks its wire, and yields a
// figure. It measures nothing worth comparing and asserts no timing.
describe("npm run bench -- --quick", () => {
  it("runs every scenario against every system, on Node and on Bun, and reports a finite figure in every cell", async () => {
    const bench = fileURLToPath(new URL("../dist/bench.js", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [bench, "--quick", "--json"], { maxBuffer: 16 * 2 ** 20 });
    const sections = JSON.parse(stdout) as Section[];
    expect(sections.map((section) => section.title.split(":")[0])).toEqual([
      "Echo RPC",
      "Broadcast, back to back",
      "Broadcast, one at a time",
      "Idle memory",
      "Two nodes through Redis",
      "Long-polling echo",
      "socket.io clients on Hubwire",
      "Client bundle sizes",
      "Idle connections held by one process (target 300)",
      "Idle connections held by one machine",
    ]);
    const systemsOf = (title: string) => sections.find((section) => section.title.startsWith(title))!.rows.map((row) => row[0]);
    const onBun = ["Hubwire JSON on Bun", "Hubwire MessagePack on Bun", "socket.io 4.8 on Bun"];
    expect(systemsOf("Echo RPC")).toEqual([
      "plain TCP echo (ceiling)",
      "raw ws",
      "raw ws + JSON.parse (floor)",
      "Hubwire JSON",
      "Hubwire MessagePack",
      "socket.io 4.8",
      ...onBun,
    ]);
    expect(systemsOf("Broadcast")).toEqual(["raw ws", "raw ws, frame once", "Hubwire JSON", "Hubwire MessagePack", "socket.io 4.8", ...onBun]);
    // Each system through Redis by pub/sub, then by Redis Streams (issue 20).
    expect(systemsOf("Two nodes through Redis")).toEqual(["Hubwire JSON", "Hubwire JSON, durable", "socket.io 4.8", "socket.io 4.8, Streams adapter"]);
    expect(systemsOf("Long-polling echo")).toEqual(["node:http long polling (ceiling)", "Hubwire long polling", "socket.io 4.8 polling"]);
    // Its rows are cells (each echo case, both broadcasts), each set Hubwire via socket.io against socket.io.
    expect(systemsOf("socket.io clients on Hubwire")).toEqual([
      "echo 4 in flight, 32 B (requests/s)",
      "broadcast back to back, 50 clients (deliveries/s)",
      "broadcast one at a time, 50 clients (deliveries/s)",
    ]);
    for (const section of sections) {
      for (const row of section.rows) {
        // Every measured cell is a number (memory deltas of a few connections may be negative), or a yes.
        for (const cell of row.slice(1).filter((value) => value !== ""))
          expect(cell, `${section.title}: ${row.join(" | ")}`).toMatch(/^(yes|-?[\d,.]+( \(-?[\d,.]+--?[\d,.]+\))?(x| KB| MiB)?)$/);
      }
      for (const goal of section.goals) expect(Number.isFinite(goal.measured), goal.text).toBe(true);
    }
    // The systems on Bun answered, and each is set against the same system on Node.
    for (const section of sections.filter((section) => /^(Echo RPC|Broadcast)/.test(section.title))) {
      for (const row of section.rows) expect(row.at(-1), `${section.title}: ${row[0]}`).toMatch(onBun.includes(row[0]!) ? /^[\d.]+x$/ : /^$/);
    }
    const held = sections.at(-2)!.rows[0]!;
    expect(held[3]).toBe("300");
    // Across processes on one port: every connection held, and every one answered its echo.
    const [across] = sections.at(-1)!.rows;
    const column = (name: string) => across![sections.at(-1)!.head.indexOf(name)];
    expect([column("still open after idling"), column("answered the echo"), column("all answered")]).toEqual(["200", "200", "yes"]);
  }, 180_000);
});
