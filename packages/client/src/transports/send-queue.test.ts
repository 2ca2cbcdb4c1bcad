import { describe, expect, it } from "vitest";
import { SendQueue } from "./send-queue.js";

describe("SendQueue", () => {
  it("has one POST in flight at a time, and sends what came meanwhile together, in order", async () => {
    const posted: Array<string | Uint8Array> = [];
    let release: () => void = () => undefined;
    const queue = new SendQueue(async (data) => {
      posted.push(data);
      await new Promise<void>((resolve) => (release = resolve));
    });
    const first = queue.send("a");
    const rest = [queue.send("b"), queue.send("c")];
    expect(posted).toEqual(["a"]);
    release();
    await first;
    await Promise.resolve();
    expect(posted).toEqual(["a", "bc"]);
    release();
    await Promise.all(rest);
  });

  it("concatenates bytes, and fails each send of a batch whose POST failed, then goes on", async () => {
    const posted: Array<string | Uint8Array> = [];
    let calls = 0;
    let release: () => void = () => undefined;
    const queue = new SendQueue(async (data) => {
      posted.push(data);
      calls++;
      await new Promise<void>((resolve) => (release = resolve));
      if (calls === 2) throw new Error("503");
    });
    const first = queue.send(new Uint8Array([1]));
    const batch = [queue.send(new Uint8Array([2])), queue.send(new Uint8Array([3, 4]))];
    release();
    await first;
    await Promise.resolve();
    release();
    for (const send of batch) await expect(send).rejects.toThrow("503");
    const after = queue.send(new Uint8Array([5]));
    release();
    await after;
    expect(posted).toEqual([new Uint8Array([1]), new Uint8Array([2, 3, 4]), new Uint8Array([5])]);
  });
});
