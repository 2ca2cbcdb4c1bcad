/**
 * Stateful reconnect (.NET 8's "seamless reconnect"), the server's half. Both sides number their
 * trackable messages (types 1 to 5) from 1, keep what they sent until the other side acknowledges
 * it (Ack), and after a dropped transport is re-attached with the same token, each first sends
 * Sequence (the id its replay starts at) and then replays. A receiver drops everything until that
 * Sequence, and duplicates after it. The connection id, groups and state survive; the client's
 * `onreconnecting` never fires. Only with handshake version 2.
 *
 * Every transport resumes, each re-attached by a new request of its own kind: a WebSocket, or an
 * event stream or a poll on a new link (`link=N` on every request of the client's Nth re-attach: a
 * poll cannot tell otherwise that the answer before it was lost, nor a late request of the old
 * link from one of the new; the endpoint refuses the old link's). .NET resumes WebSockets only,
 * and the official clients ask for version 2 only over WebSockets, so over the others only
 * `@hubwire/client` uses it.
 *
 * @module
 */
import { type HubMessage, isTrackableMessage, MessageType } from "@hubwire/protocol";
import { type ReplayBudget, ReplayBuffer } from "./replay-buffer.js";

/** What to do with an incoming message. */
export type Verdict = "process" | "drop" | { readonly fatal: string };

export class StatefulReconnect {
  readonly buffer: ReplayBuffer;
  #awaitingSequence = false;
  #nextReceivingId = 1;
  #latestReceivedId = 0;
  #lastAckedId = 0;

  /** `release` writes a message that waited for room in the buffer (see {@link ReplayBuffer.offer}). */
  constructor(bufferBytes: number, budget: ReplayBudget, release: (bytes: Uint8Array) => void = () => undefined) {
    this.buffer = new ReplayBuffer(bufferBytes, budget, release);
  }

  /** Sorts an incoming message: duplicates and anything before the Sequence are dropped; Ack and Sequence are handled here. */
  accept(message: HubMessage): Verdict {
    if (this.#awaitingSequence) {
      if (message.type !== MessageType.Sequence) return "drop";
      this.#awaitingSequence = false;
    }
    switch (message.type) {
      case MessageType.Ack:
        this.buffer.ack(message.sequenceId);
        return "drop";
      case MessageType.Sequence:
        // Past the newest message received there would be a gap. Not past the next one expected
        // (as .NET checks): after a replay cut short, that is behind what this side acknowledged,
        // and the client's next Sequence rightly starts after the acknowledged messages.
        if (message.sequenceId > this.#latestReceivedId + 1) {
          return { fatal: "Sequence ID greater than amount of messages we've received." };
        }
        this.#nextReceivingId = message.sequenceId;
        return "drop";
    }
    if (!isTrackableMessage(message)) return "process";
    const id = this.#nextReceivingId++;
    if (id <= this.#latestReceivedId) return "drop";
    this.#latestReceivedId = id;
    return "process";
  }

  /** The newest of the client's messages received. */
  get latestReceivedId(): number {
    return this.#latestReceivedId;
  }

  /**
   * Takes over a connection another node held (connection-keeping.ts): the client's messages
   * through `receivedThrough` were received there; it is waiting for the client's Sequence.
   */
  restore(receivedThrough: number): void {
    this.#latestReceivedId = this.#lastAckedId = receivedThrough;
    this.#nextReceivingId = receivedThrough + 1;
    this.#awaitingSequence = true;
  }

  /** The id to acknowledge now (at most `upTo`), when something new has been processed since the last Ack. */
  takeAck(upTo = this.#latestReceivedId): number | undefined {
    const id = Math.min(this.#latestReceivedId, upTo);
    if (id <= this.#lastAckedId) return undefined;
    this.#lastAckedId = id;
    return id;
  }

  /** The transport dropped: from now until the client's Sequence, incoming messages are dropped. */
  disconnected(): void {
    this.#awaitingSequence = true;
  }
}
