import { describe, expect, it } from "vitest";
import { SenderSequences } from "./sender-sequences.js";

const mark = { generation: 0, incidents: 0 };
const entry = (seq: number, failed: number[] = [], senderId = "a") => ({ senderId, seq, failed });

describe("SenderSequences", () => {
  it("counts the numbers a sender skipped as lost, except those it reported failed", () => {
    const sequences = new SenderSequences();
    expect(sequences.observe(entry(7), mark)).toBeUndefined();
    expect(sequences.observe(entry(8), mark)).toBeUndefined();
    expect(sequences.observe(entry(12, [9, 9]), mark)).toMatchObject({ senderId: "a", lost: 2, after: 8, before: 12, explained: false });
    expect(sequences.observe(entry(20, [13, 19]), mark)).toBeUndefined();
  });

  it("ignores a number already passed (a retry or a resend) and keeps senders apart", () => {
    const sequences = new SenderSequences();
    sequences.observe(entry(1), mark);
    sequences.observe(entry(1, [], "b"), mark);
    expect(sequences.observe(entry(1), mark)).toBeUndefined();
    expect(sequences.observe(entry(2), mark)).toBeUndefined();
    expect(sequences.observe(entry(3, [], "b"), mark)).toMatchObject({ senderId: "b", lost: 1 });
  });

  it("says whether a gap spans a reset of the stream and whether an incident already explains it", () => {
    const sequences = new SenderSequences();
    sequences.observe(entry(1), mark);
    expect(sequences.observe(entry(5), { generation: 1, incidents: 1 })).toMatchObject({ lost: 3, acrossGenerations: true, explained: true });
    expect(sequences.observe(entry(7), { generation: 1, incidents: 1 })).toMatchObject({ lost: 1, acrossGenerations: false, explained: false });
  });

  it("forgets the senders heard least recently past its bound", () => {
    const sequences = new SenderSequences(2);
    sequences.observe(entry(1, [], "a"), mark);
    sequences.observe(entry(1, [], "b"), mark);
    sequences.observe(entry(1, [], "c"), mark);
    // "a" was forgotten: its next number sets where it stands again, no gap.
    expect(sequences.observe(entry(9, [], "a"), mark)).toBeUndefined();
    expect(sequences.observe(entry(9, [], "c"), mark)).toMatchObject({ lost: 7 });
  });
});
