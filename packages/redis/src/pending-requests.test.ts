// The request/acknowledge table alone, on a clock the test moves: no Redis, no real timers.
import { describe, expect, it } from "vitest";
import { PendingRequests } from "./pending-requests.js";
import { ManualClock } from "./test-helpers/manual-clock.js";

const late = () => new Error("late");

describe("PendingRequests", () => {
  it("resolves an entry with its answer, once, and then forgets it and its timer", async () => {
    const clock = new ManualClock();
    const requests = new PendingRequests(clock);
    const answer = requests.expect("r1", { timeoutMs: 1_000, onTimeout: late });
    expect(requests.resolve("r1", 42)).toBe(true);
    await expect(answer).resolves.toBe(42);
    expect(requests.resolve("r1", 43)).toBe(false);
    expect(requests.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it("rejects with the timeout error once timeoutMs has passed on the clock, not before", async () => {
    const clock = new ManualClock();
    const requests = new PendingRequests(clock);
    let outcome = "pending";
    void requests.expect("r1", { timeoutMs: 1_000, onTimeout: late }).catch((error: Error) => (outcome = error.message));
    clock.advance(999);
    await Promise.resolve();
    expect(outcome).toBe("pending");
    clock.advance(1);
    await Promise.resolve();
    expect(outcome).toBe("late");
    expect(requests.size).toBe(0);
    expect(requests.resolve("r1", "too late")).toBe(false);
  });

  it("waits without end when no timeout is given", () => {
    const clock = new ManualClock();
    const requests = new PendingRequests(clock);
    void requests.expect("r1", { onTimeout: late });
    clock.advance(3_600_000);
    expect(requests.size).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it("rejects with the abort error when the signal aborts, and stops its timer", async () => {
    const clock = new ManualClock();
    const requests = new PendingRequests(clock);
    const controller = new AbortController();
    const answer = requests.expect("r1", { timeoutMs: 1_000, onTimeout: late, signal: controller.signal, onAbort: () => new Error("cancelled") });
    controller.abort();
    await expect(answer).rejects.toThrow("cancelled");
    expect(requests.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it("fails one entry by id, or every entry when the backplane closes", async () => {
    const requests = new PendingRequests(new ManualClock());
    const first = requests.expect("r1", { onTimeout: late });
    const second = requests.expect("r2", { onTimeout: late });
    const third = requests.expect("r3", { onTimeout: late });
    expect(requests.reject("r1", new Error("refused"))).toBe(true);
    requests.rejectAll(new Error("closing"));
    await expect(first).rejects.toThrow("refused");
    await expect(second).rejects.toThrow("closing");
    await expect(third).rejects.toThrow("closing");
    expect(requests.size).toBe(0);
  });

  it("rejects at once, and keeps nothing, for a signal that has already aborted", async () => {
    const clock = new ManualClock();
    const requests = new PendingRequests(clock);
    const aborted = AbortSignal.abort();
    await expect(requests.expect("r1", { onTimeout: late, signal: aborted, onAbort: () => new Error("cancelled") })).rejects.toThrow("cancelled");
    expect(requests.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });
});
