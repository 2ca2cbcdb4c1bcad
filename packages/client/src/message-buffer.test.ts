import { type HubMessage, MessageType } from "@hubwire/protocol";
import { describe, expect, it } from "vitest";
import { MessageBuffer, type ResumeContext } from "./message-buffer.js";

const invocation = (n: number): HubMessage => ({ type: MessageType.Invocation, target: "take", arguments: [n] });
const write = (message: HubMessage) => JSON.stringify(message);

/** A context that only writes and transmits. */
const context = (transmit: (data: string | Uint8Array) => Promise<void>): ResumeContext => ({
  protocol: { write },
  send: transmit,
  connection: { transport: undefined },
  reset: () => undefined,
  live: () => true,
  lost: () => undefined,
  options: {},
});

describe("MessageBuffer", () => {
  it("replays every unacknowledged message in order, even when an Ack arrives and sends are made while the replay is under way", async () => {
    const transmitted: string[] = [];
    const answers: Array<() => void> = [];
    // Over HTTP each transmit waits for its POST: the test answers them.
    const buffer = new MessageBuffer(
      100_000,
      context((data) => {
        transmitted.push(data as string);
        return new Promise((resolve) => answers.push(() => resolve()));
      }),
    );
    const answerAll = async () => {
      for (let turn = 0; turn < 20; turn++) {
        for (const answer of answers.splice(0)) answer();
        await Promise.resolve();
      }
    };
    for (let n = 1; n <= 3; n++) void buffer.send(invocation(n));
    await answerAll();
    buffer.disconnected();
    void buffer.send(invocation(4));
    transmitted.length = 0;
    const replayed = buffer.resend();
    // The server acknowledges 2 while the replay's first POST is in flight, and the app sends 5.
    buffer.accept({ type: MessageType.Sequence, sequenceId: 1 });
    buffer.accept({ type: MessageType.Ack, sequenceId: 2 });
    void buffer.send(invocation(5));
    await answerAll();
    await replayed;
    const sent = transmitted.map((data) => JSON.parse(data) as { type: number; sequenceId?: number; arguments?: number[] });
    expect(sent).toEqual([
      { type: MessageType.Sequence, sequenceId: 1 },
      ...[1, 2, 3, 4, 5].map((n) => ({ type: MessageType.Invocation, target: "take", arguments: [n] })),
    ]);
  });

  it("takes the server's Sequence up to one past the newest message received, past the next one expected after a cut replay", () => {
    const buffer = new MessageBuffer(
      100_000,
      context(async () => undefined),
    );
    for (let id = 1; id <= 5; id++) expect(buffer.accept(invocation(id))).toBe(true);
    buffer.disconnected();
    expect(buffer.accept({ type: MessageType.Sequence, sequenceId: 3 })).toBe(false);
    expect(buffer.accept(invocation(3))).toBe(false);
    buffer.disconnected();
    expect(buffer.accept({ type: MessageType.Sequence, sequenceId: 6 })).toBe(false);
    expect(buffer.accept(invocation(6))).toBe(true);
    buffer.disconnected();
    expect(() => buffer.accept({ type: MessageType.Sequence, sequenceId: 8 })).toThrow("Sequence ID greater than amount of messages we've received.");
  });
});

describe("MessageBuffer's failed sends", () => {
  it("drops the transport when an Ack fails, as when a message fails: the sends halt until it is re-attached", async () => {
    const abandoned: Error[] = [];
    const buffer = new MessageBuffer(100_000, {
      ...context(() => Promise.reject(new Error("fetch failed"))),
      connection: { transport: { abandon: (error) => void abandoned.push(error), stop: async () => undefined } },
    });
    buffer.accept(invocation(1));
    // The Ack goes out within a tenth of a second of receiving.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(abandoned.map((error) => error.message)).toEqual(["fetch failed"]);
    expect(buffer.awaitingSequence).toBe(true);
  });

  it("leaves a re-attach under way alone when a send of the dropped link fails meanwhile", async () => {
    const posts: Array<(error?: Error) => void> = [];
    let connects = 0;
    let connecting: ((error?: Error) => void) | undefined;
    const abandoned: Error[] = [];
    const buffer = new MessageBuffer(100_000, {
      ...context((_data) => new Promise<void>((resolve, reject) => posts.push((error) => (error === undefined ? resolve() : reject(error))))),
      connection: {
        transport: {
          // As the HTTP transports do: abandoning aborts the request of the link being connected.
          abandon: (error) => {
            abandoned.push(error);
            connecting?.(new Error("This operation was aborted"));
          },
          stop: async () => undefined,
        },
      },
    });
    void buffer.send(invocation(1));
    await Promise.resolve();
    expect(posts).toHaveLength(1);
    // The event stream drops while the POST is in flight; the re-attach connects.
    let ended: Error | undefined | null = null;
    const reattaching = buffer.dropped(
      new Error("stream ended"),
      () => {
        connects++;
        return new Promise<void>((resolve, reject) => (connecting = (error) => (error === undefined ? resolve() : reject(error))));
      },
      (error) => (ended = error),
    );
    expect(reattaching).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The old link's POST fails (its request was cut with the stream), during the re-attach.
    posts.shift()!(new Error("fetch failed"));
    await new Promise((resolve) => setTimeout(resolve, 10));
    connecting!();
    // The replay (Sequence and the message) goes out on the new link.
    for (let turn = 0; turn < 20 && posts.length === 0; turn++) await new Promise((resolve) => setTimeout(resolve, 5));
    for (const post of posts.splice(0)) post();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(abandoned).toEqual([]);
    expect(connects).toBe(1);
    expect(ended).toBe(null);
    expect(buffer.awaitingSequence).toBe(true);
  });
});

describe("MessageBuffer's acknowledgements", () => {
  it("acknowledges what it received within a tenth of a second, once for a run of messages (the official clients wait a second)", async () => {
    const transmitted: string[] = [];
    const buffer = new MessageBuffer(
      100_000,
      context(async (data) => void transmitted.push(data as string)),
    );
    for (let n = 1; n <= 3; n++) buffer.accept(invocation(n));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(transmitted.map((data) => JSON.parse(data))).toEqual([{ type: MessageType.Ack, sequenceId: 3 }]);
  });
});
