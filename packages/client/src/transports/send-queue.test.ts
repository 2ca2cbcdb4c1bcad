import { describe, expect, it } from "vitest";
import { sendQueue } from "./send-queue.js";

/** A transmit whose POSTs the test answers one by one. */
function controlled(failOn?: number) {
  const posted: Array<string | Uint8Array | Blob> = [];
  const answers: Array<() => void> = [];
  const transmit = (body: string | Uint8Array | Blob) => {
    posted.push(body);
    const index = posted.length;
    return new Promise<void>((resolve, reject) => answers.push(() => (index === failOn ? reject(new Error("503")) : resolve())));
  };
  const answerNext = async () => {
    answers.shift()!();
    // Let the next batch start.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { posted, transmit, answerNext };
}

const tick = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe("sendQueue", () => {
  it("has one POST in flight at a time, and sends what came meanwhile together, in order", async () => {
    const { posted, transmit, answerNext } = controlled();
    const send = sendQueue(transmit);
    const first = send("a");
    await tick();
    const rest = [send("b"), send("c")];
    await tick();
    expect(posted).toEqual(["a"]);
    await answerNext();
    await first;
    expect(posted).toEqual(["a", "bc"]);
    await answerNext();
    await Promise.all(rest);
  });

  it("joins bytes, fails each send of a batch whose POST failed, then goes on", async () => {
    const { posted, transmit, answerNext } = controlled(2);
    const send = sendQueue(transmit);
    const first = send(new Uint8Array([1]));
    await tick();
    const batch = [send(new Uint8Array([2])), send(new Uint8Array([3, 4]))];
    await answerNext();
    await first;
    await answerNext();
    for (const sent of batch) await expect(sent).rejects.toThrow("503");
    const after = send(new Uint8Array([5]));
    await tick();
    await answerNext();
    await after;
    expect(posted[0]).toEqual(new Uint8Array([1]));
    expect(new Uint8Array(await (posted[1] as Blob).arrayBuffer())).toEqual(new Uint8Array([2, 3, 4]));
    expect(posted[2]).toEqual(new Uint8Array([5]));
  });
});
