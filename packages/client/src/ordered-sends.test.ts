import { describe, expect, it } from "vitest";
import { OrderedSends } from "./ordered-sends.js";

const turns = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe("OrderedSends", () => {
  it("sends what waited behind an answered send in one turn, and after a failure nothing until restarted", async () => {
    const handed: string[][] = [[]];
    const answers: Array<(error?: Error) => void> = [];
    const sends = new OrderedSends((data) => {
      handed.at(-1)!.push(data as string);
      return new Promise<void>((resolve, reject) => answers.push((error) => (error === undefined ? resolve() : reject(error))));
    });
    const first = sends.send("a");
    await turns();
    const queued = [sends.send("b"), sends.send("c")];
    await turns();
    expect(handed).toEqual([["a"]]);
    handed.push([]);
    answers.shift()!();
    await first;
    await turns();
    expect(handed).toEqual([["a"], ["b", "c"]]);
    // "b" fails: "c" shares its fate (handed out in the same turn), later sends fail at once.
    answers.shift()!(new Error("fetch failed"));
    answers.shift()!();
    for (const sent of queued) await expect(sent).rejects.toThrow("fetch failed");
    handed.push([]);
    await expect(sends.send("d")).rejects.toThrow("fetch failed");
    await turns();
    expect(handed.at(-1)).toEqual([]);
    sends.restart();
    const after = sends.send("e");
    await turns();
    expect(handed.at(-1)).toEqual(["e"]);
    answers.shift()!();
    await after;
  });
});

describe("OrderedSends across a re-attach", () => {
  it("does not make the new link's sends wait for the old link's, and settles those without a failure", async () => {
    const handed: string[] = [];
    const answers = new Map<string, (error?: Error) => void>();
    const sends = new OrderedSends((data) => {
      handed.push(data as string);
      return new Promise<void>((resolve, reject) => answers.set(data as string, (error) => (error === undefined ? resolve() : reject(error))));
    });
    // "a" is in flight on the old link (a proxy holds it), "b" waits behind it.
    const a = sends.send("a");
    await turns();
    const b = sends.send("b");
    sends.restart();
    const c = sends.send("c");
    await turns();
    expect(handed).toEqual(["a", "c"]);
    answers.get("c")!();
    await c;
    // The old link's POST fails at last: its sends settle quietly, and nothing halts.
    answers.get("a")!(new Error("fetch failed"));
    await a;
    await b;
    expect(handed).toEqual(["a", "c"]);
    const d = sends.send("d");
    await turns();
    answers.get("d")!();
    await d;
    expect(handed).toEqual(["a", "c", "d"]);
  });
});
