/**
 * Where a counted window's instructions went, function by function: the self cost of each
 * function in a callgrind dump, with V8's compiled JavaScript named. Callgrind sees no symbols
 * for code V8 generates and names it by address (`0x000000000d0bd7c0`); a server started with
 * Node's `--perf-basic-prof` writes `/tmp/perf-<pid>.map`, a line per piece of generated code
 * (`<start> <size> <name>`, hex), which turns those addresses into `JS:*getData .../receiver.js:480:10`
 * (`*` optimized by TurboFan, `^` Sparkplug, `~` interpreted) or a builtin's or regular
 * expression's name. Code V8 moved or freed and whose address was reused can be misnamed: read a
 * JavaScript function's figure as "about", and an inlined function under its caller's name.
 *
 * @example
 * ```ts
 * const costs = functionCosts(readFileSync("callgrind.out.1", "utf8"), readFileSync("/tmp/perf-4242.map", "utf8"));
 * for (const [name, instructions] of topFunctions(costs, 40)) console.log(instructions, name);
 * ```
 */

interface CodeRange {
  readonly start: number;
  readonly end: number;
  readonly name: string;
}

/** The ranges of a perf map, sorted by start; a later line for the same start wins (code replaced there). */
export function readPerfMap(map: string): CodeRange[] {
  const byStart = new Map<number, CodeRange>();
  for (const line of map.split("\n")) {
    const match = /^([0-9a-fA-F]+) ([0-9a-fA-F]+) (.*)$/.exec(line);
    if (match === null) continue;
    const start = Number.parseInt(match[1]!, 16);
    byStart.set(start, { start, end: start + Number.parseInt(match[2]!, 16), name: match[3]! });
  }
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}

/** The name of the range holding `address`, by binary search; undefined when none does. */
function nameAt(ranges: readonly CodeRange[], address: number): string | undefined {
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const range = ranges[middle]!;
    if (address < range.start) high = middle - 1;
    else if (address >= range.end) low = middle + 1;
    else return range.name;
  }
  return undefined;
}

/**
 * Self instructions per function of a callgrind dump (`--dump-instr=no`, one event), summed
 * over files and objects, functions named by address looked up in the perf map when one is given.
 * Callgrind's suffix for a recursion level (`'2`) is dropped, so each function is one entry.
 */
export function functionCosts(dump: string, perfMap?: string): Map<string, number> {
  const ranges = perfMap === undefined ? [] : readPerfMap(perfMap);
  // Callgrind writes a name once, as `fn=(12) name`, and then only `fn=(12)`.
  const names = new Map<string, string>();
  const costs = new Map<string, number>();
  let current: string | undefined;
  let inclusiveLineNext = false;
  for (const line of dump.split("\n")) {
    const named = /^(c?fn)=\((\d+)\)(?: (.*))?$/.exec(line);
    if (named !== null) {
      if (named[3] !== undefined) names.set(named[2]!, named[3]);
      if (named[1] === "fn") current = names.get(named[2]!);
      continue;
    }
    if (line.startsWith("calls=")) {
      // The line after a call is the callee's inclusive cost, already counted as its own.
      inclusiveLineNext = true;
      continue;
    }
    if (!/^[\d+\-*]/.test(line)) continue;
    if (inclusiveLineNext) {
      inclusiveLineNext = false;
      continue;
    }
    const cost = Number(line.split(" ")[1]);
    if (current === undefined || !Number.isFinite(cost)) continue;
    const name = readableName(current, ranges);
    costs.set(name, (costs.get(name) ?? 0) + cost);
  }
  return costs;
}

function readableName(name: string, ranges: readonly CodeRange[]): string {
  const base = name.replace(/'\d+$/, "");
  const address = /^0x([0-9a-f]+)$/.exec(base);
  if (address === null) return base;
  return nameAt(ranges, Number.parseInt(address[1]!, 16)) ?? base;
}

/** The `count` costliest functions, costliest first. */
export function topFunctions(costs: ReadonlyMap<string, number>, count: number): Array<[string, number]> {
  return [...costs].sort((a, b) => b[1] - a[1]).slice(0, count);
}
