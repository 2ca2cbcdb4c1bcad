import { describe, expect, it } from "vitest";
import { SeqRanges } from "./seq-ranges.js";

describe("SeqRanges", () => {
  it("keeps runs of failures as ranges, merging neighbours whatever the order they come in", () => {
    const ranges = new SeqRanges();
    for (const seq of [4, 5, 6, 9, 12, 11, 10, 2]) ranges.add(seq);
    expect(ranges.toArray()).toEqual([2, 2, 4, 6, 9, 12]);
    ranges.add(3);
    expect(ranges.toArray()).toEqual([2, 6, 9, 12]);
    ranges.add(5);
    expect(ranges.size).toBe(2);
  });

  it("splits a range when a number in it is deleted (a retry that was stored)", () => {
    const ranges = new SeqRanges();
    for (let seq = 1; seq <= 5; seq++) ranges.add(seq);
    ranges.delete(3);
    expect(ranges.toArray()).toEqual([1, 2, 4, 5]);
    ranges.delete(1);
    ranges.delete(5);
    ranges.delete(42);
    expect(ranges.toArray()).toEqual([2, 2, 4, 4]);
  });

  it("forgets the oldest ranges past its bound", () => {
    const ranges = new SeqRanges(3);
    for (const seq of [1, 3, 5, 7]) ranges.add(seq);
    expect(ranges.toArray()).toEqual([3, 3, 5, 5, 7, 7]);
  });

  it("finds a number in flat ranges", () => {
    expect(SeqRanges.has([2, 4, 9, 9], 3)).toBe(true);
    expect(SeqRanges.has([2, 4, 9, 9], 9)).toBe(true);
    expect(SeqRanges.has([2, 4, 9, 9], 5)).toBe(false);
  });
});
