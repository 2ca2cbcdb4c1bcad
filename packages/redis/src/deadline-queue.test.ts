import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DeadlineQueue } from "./deadline-queue.js";

describe("DeadlineQueue", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  it("settles as the work does when it answers in time, and then stops its timer", async () => {
    const queue = new DeadlineQueue(1_000);
    await expect(queue.bound(Promise.resolve(3), () => new Error("late"))).resolves.toBe(3);
    await expect(queue.bound(Promise.reject(new Error("refused")), () => new Error("late"))).rejects.toThrow("refused");
    await vi.advanceTimersByTimeAsync(250);
    expect(queue.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects work that has not answered within 1.25 times the timeout, and only that work", async () => {
    const queue = new DeadlineQueue(1_000);
    const never = queue.bound(new Promise<number>(() => undefined), () => new Error("late"));
    const outcome = never.then(
      () => "answered",
      (error: Error) => `${error.message} at ${Date.now()}`,
    );
    await vi.advanceTimersByTimeAsync(600);
    let answer!: (value: number) => void;
    const later = queue.bound(new Promise<number>((resolve) => (answer = resolve)), () => new Error("late"));
    await vi.advanceTimersByTimeAsync(700);
    expect(await outcome).toMatch(/^late at (1000|1250)$/);
    answer(7);
    await expect(later).resolves.toBe(7);
  });

  it("ignores an answer that comes after the timeout", async () => {
    const queue = new DeadlineQueue(100);
    let answer!: (value: number) => void;
    const bounded = queue.bound(new Promise<number>((resolve) => (answer = resolve)), () => new Error("late"));
    const caught = bounded.catch((error: Error) => error.message);
    await vi.advanceTimersByTimeAsync(200);
    answer(1);
    expect(await caught).toBe("late");
  });
});
