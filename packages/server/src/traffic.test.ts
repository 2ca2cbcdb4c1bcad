import { describe, expect, it } from "vitest";
import { ConnectionTraffic, TrafficTotals } from "./traffic.js";

describe("traffic counts", () => {
  it("count each connection's messages and bytes into its hub's totals", () => {
    const totals = new TrafficTotals(() => 0);
    const a = new ConnectionTraffic(totals);
    const b = new ConnectionTraffic(totals);
    a.read(10);
    a.received();
    b.received();
    b.sent();
    b.wrote(30);
    expect([a.messagesIn, a.bytesIn, b.messagesOut, b.bytesOut]).toEqual([1, 10, 1, 30]);
    expect([totals.messagesIn, totals.messagesOut]).toEqual([2, 1]);
  });

  it("give rates per second between readings at least a second apart, on the clock given", () => {
    let now = 0;
    const totals = new TrafficTotals(() => now);
    const traffic = new ConnectionTraffic(totals);
    for (let i = 0; i < 50; i++) traffic.received();
    now = 500;
    // Too soon: the previous reading's rates (none yet).
    expect(totals.rates()).toEqual({ messagesInPerSecond: 0, messagesOutPerSecond: 0, messagesPerSecondByTransport: {} });
    now = 2_000;
    expect(totals.rates()).toEqual({ messagesInPerSecond: 25, messagesOutPerSecond: 0, messagesPerSecondByTransport: {} });
    traffic.over("WebSockets");
    for (let i = 0; i < 10; i++) traffic.sent();
    now = 2_200;
    expect(totals.rates()).toEqual({ messagesInPerSecond: 25, messagesOutPerSecond: 0, messagesPerSecondByTransport: {} });
    now = 4_000;
    expect(totals.rates()).toEqual({ messagesInPerSecond: 0, messagesOutPerSecond: 5, messagesPerSecondByTransport: { WebSockets: 5 } });
  });
});
