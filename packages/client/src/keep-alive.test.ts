import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { watchKeepAlive } from "./keep-alive.js";

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

describe("watchKeepAlive", () => {
  it("pings when nothing has been sent for the interval, not while sends keep coming", () => {
    const ping = vi.fn();
    const keepAlive = watchKeepAlive(1_000, 10_000, ping, () => undefined);
    keepAlive.start();
    for (let elapsed = 0; elapsed < 3_000; elapsed += 500) {
      vi.advanceTimersByTime(500);
      keepAlive.sent();
      keepAlive.received();
    }
    expect(ping).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(ping).toHaveBeenCalled();
    keepAlive.stop();
  });

  it("times the server out when nothing has come from it for the timeout, even while pinging", () => {
    const timedOut = vi.fn();
    const keepAlive = watchKeepAlive(1_000, 3_000, () => keepAlive.sent(), timedOut);
    keepAlive.start();
    vi.advanceTimersByTime(2_000);
    keepAlive.received();
    vi.advanceTimersByTime(2_900);
    expect(timedOut).not.toHaveBeenCalled();
    vi.advanceTimersByTime(200);
    expect(timedOut).toHaveBeenCalled();
    keepAlive.stop();
  });

  it("does nothing once stopped, and counts afresh from a new start", () => {
    const ping = vi.fn();
    const timedOut = vi.fn();
    const keepAlive = watchKeepAlive(1_000, 3_000, ping, timedOut);
    keepAlive.start();
    keepAlive.stop();
    vi.advanceTimersByTime(10_000);
    expect(ping).not.toHaveBeenCalled();
    expect(timedOut).not.toHaveBeenCalled();
    keepAlive.start();
    vi.advanceTimersByTime(2_500);
    expect(timedOut).not.toHaveBeenCalled();
    keepAlive.stop();
  });
});
