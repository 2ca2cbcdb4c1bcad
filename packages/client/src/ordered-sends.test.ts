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
