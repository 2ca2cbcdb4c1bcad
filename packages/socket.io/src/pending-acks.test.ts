// The acknowledgements a socket's calls wait on: by id, once each, whatever order the hub answers in.
import { describe, expect, it } from "vitest";
import { PendingAcks } from "./pending-acks.js";

describe("pending acknowledgements", () => {
  it("gives each acknowledgement once under its own id, in order or not", () => {
    const acks = new PendingAcks();
    const answered: string[] = [];
    const ids = ["a", "b", "c", "d"].map((name) => acks.add(() => answered.push(name)));
    expect(new Set(ids).size).toBe(4);
    acks.take(ids[0]!)?.();
    acks.take(ids[2]!)?.();
    acks.take(ids[1]!)?.();
    expect(acks.take(ids[1]!)).toBeUndefined();
    expect(acks.size).toBe(1);
    acks.take(ids[3]!)?.();
    expect(answered).toEqual(["a", "c", "b", "d"]);
    expect(acks.size).toBe(0);
  });

  it("has nothing for an id it never gave, and nothing after clear", () => {
    const acks = new PendingAcks();
    const id = acks.add(() => undefined);
    expect(acks.take("not one of ours")).toBeUndefined();
    acks.clear();
    expect(acks.take(id)).toBeUndefined();
    // Ids are never reused, so a late answer cannot reach a newer call.
    expect(acks.add(() => undefined)).not.toBe(id);
  });
});
