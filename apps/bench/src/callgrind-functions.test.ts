import { describe, expect, it } from "vitest";
import { functionCosts, readPerfMap, topFunctions } from "./callgrind-functions.js";

// A dump in callgrind's own format: names written once and then by number, a call's inclusive
// cost on the line after `calls=`, relative positions, and a recursion level's suffix.
const dump = [
  "events: Ir",
  "fl=(1) server.c",
  "fn=(1) main",
  "0 100",
  "cfn=(2) 0x0000000000001010",
  "calls=1 0",
  "0 500",
  "fn=(2)",
  "0 300",
  "fn=(3) 0x0000000000009000'2",
  "0 7",
  "fn=(4) helper",
  "+2 40",
  "* 2",
  "fn=(5) 0x0000000000001020'2",
  "0 200",
  "totals: 649",
].join("\n");

describe("where a callgrind count went, function by function", () => {
  it("sums each function's own instructions, not what it called, and names generated code from the perf map", () => {
    const costs = functionCosts(dump, "1000 100 JS:*echo hub.js:1:1\n2000 10 Builtins_StringAdd\nnot a line\n");
    expect(Object.fromEntries(costs)).toEqual({ main: 100, "JS:*echo hub.js:1:1": 500, "0x0000000000009000": 7, helper: 42 });
    expect(topFunctions(costs, 2)).toEqual([
      ["JS:*echo hub.js:1:1", 500],
      ["main", 100],
    ]);
  });

  it("keeps addresses as callgrind named them when there is no map", () => {
    expect(functionCosts(dump).get("0x0000000000001010")).toBe(300);
  });

  it("names an address by the code V8 put there last", () => {
    const ranges = readPerfMap("1000 10 JS:~old a.js:1:1\n1000 20 JS:*new a.js:1:1\n3000 8 RegExp:[a-z]\n");
    expect(ranges).toEqual([
      { start: 0x1000, end: 0x1020, name: "JS:*new a.js:1:1" },
      { start: 0x3000, end: 0x3008, name: "RegExp:[a-z]" },
    ]);
  });
});
