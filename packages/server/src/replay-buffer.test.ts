import { describe, expect, it } from "vitest";
import { ReplayBudget, ReplayBuffer } from "./replay-buffer.js";

const bytes = (text: string) => Buffer.from(text);

describe("ReplayBuffer", () => {
  it("holds what is offered past its limit, in order, and releases it numbered as acknowledgements make room", () => {
    const released: string[] = [];
    const budget = new ReplayBudget(1_000);
    const buffer = new ReplayBuffer(10, budget, (held) => released.push(Buffer.from(held).toString()));
    // Admitted whatever its size while under the limit; then everything waits.
    expect(buffer.offer(bytes("a".repeat(25)))).toBe("send");
    expect(buffer.offer(bytes("b"))).toBe("held");
    expect(buffer.offer(bytes("cc"))).toBe("held");
    expect(buffer.heldBytes).toBe(3);
    expect(buffer.entries.map((entry) => entry.sequenceId)).toEqual([1]);
    let roomy = false;
    void buffer.whenNotFull().then(() => (roomy = true));
    buffer.ack(1);
    expect(released).toEqual(["b", "cc"]);
    expect(buffer.entries.map((entry) => entry.sequenceId)).toEqual([2, 3]);
    expect(buffer.heldBytes).toBe(0);
    // Nothing is sent ahead of what waits: a later offer is sent only once nothing is held.
    expect(buffer.offer(bytes("d"))).toBe("send");
    expect(buffer.firstSequenceId).toBe(2);
    buffer.clear();
    expect(budget.usedBytes).toBe(0);
    return Promise.resolve().then(() => expect(roomy).toBe(true));
  });

  it("keeps held messages waiting while the buffer stays over its limit, and counts them against the shared budget", () => {
    const budget = new ReplayBudget(40);
    const buffer = new ReplayBuffer(10, budget, () => undefined);
    expect(buffer.offer(bytes("a".repeat(12)))).toBe("send");
    expect(buffer.offer(bytes("b".repeat(20)))).toBe("held");
    expect(budget.usedBytes).toBe(32);
    expect(buffer.offer(bytes("c".repeat(10)))).toBe("overflow");
    buffer.ack(0);
    expect(buffer.heldBytes).toBe(20);
    buffer.clear();
    expect(budget.usedBytes).toBe(0);
  });
});
