// Node liveness alone, on a clock the test moves.
import { describe, expect, it } from "vitest";
import { NodeLiveness } from "./node-liveness.js";
import { ManualClock } from "./test-helpers/manual-clock.js";

const interval = 2_000;

describe("NodeLiveness", () => {
  it("counts a node heard within three heartbeat intervals, and forgets it after", () => {
    const clock = new ManualClock();
    const liveness = new NodeLiveness(interval, true, () => clock.now());
    liveness.heard("b");
    liveness.heard("c");
    clock.advance(3 * interval);
    liveness.heard("c");
    expect(liveness.liveNodeCount).toBe(2);
    clock.advance(1);
    expect(liveness.liveNodeCount).toBe(1);
  });

  it("judges liveness as it stood when an outage began, until three intervals after both connections are back", () => {
    const clock = new ManualClock();
    const liveness = new NodeLiveness(interval, true, () => clock.now());
    liveness.heard("b");
    clock.advance(1_000);
    expect(liveness.observeConnection(false)).toBe(false);
    expect(liveness.outageStart()).toBe(1_000);
    clock.advance(60_000); // nothing can be heard while Redis is away
    expect(liveness.liveNodeCount).toBe(1);
    expect(liveness.observeConnection(true)).toBe(true);
    expect(liveness.observeConnection(true)).toBe(false);
    clock.advance(3 * interval - 1);
    expect(liveness.outageStart()).toBe(1_000);
    clock.advance(1);
    expect(liveness.outageStart()).toBeUndefined();
    expect(liveness.liveNodeCount).toBe(0);
  });

  it("does not call it an outage when Redis was never there", () => {
    const clock = new ManualClock();
    const liveness = new NodeLiveness(interval, false, () => clock.now());
    liveness.observeConnection(false);
    expect(liveness.outageStart()).toBeUndefined();
    expect(liveness.observeConnection(true)).toBe(true);
    expect(liveness.outageStart()).toBeUndefined();
  });
});
