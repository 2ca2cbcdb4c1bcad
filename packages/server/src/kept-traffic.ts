/**
 * A kept connection's traffic (connection-keeping.ts): what it writes waits for its store, and
 * what it reads waits for the client's progress to be stored.
 *
 * - Out: each trackable message is stored with its sequence id; it, and everything written after
 *   it (a Ping, an Ack, a Close), goes to the transport only once it is stored, in order. The client
 *   then never holds a sequence number the node taking the connection over would not know of.
 * - In: the client's messages of one turn are dispatched once its progress (the last of them) and
 *   the calls they open and close are stored, so a call is never run twice, and one in flight when
 *   the node dies ran at most once.
 *
 * A store that fails is handed to `failed` once: the connection ends.
 *
 * @module
 */
import { type HubMessage, MessageType } from "@hubwire/protocol";
import type { ConnectionKeeper } from "./connection-keeping.js";

/** The client's messages of one turn, waiting for their progress to be stored. */
interface Inbound {
  readonly runs: Array<() => void>;
  readonly opened: string[];
  readonly closed: string[];
  /** The last of the client's trackable messages among them (0: none). */
  through: number;
}

/**
 * @example
 * ```ts
 * const kept = new KeptTraffic(keeper, (bytes) => outbound.add(bytes), (error) => connection.close(...), () => connection.isOpen);
 * kept.store(7, completion, "call-3"); // stored now
 * kept.write(completion, 7);           // written once stored
 * kept.hold(invocation, 12, () => dispatch(invocation)); // dispatched once progress 12 is stored
 * ```
 */
export class KeptTraffic {
  readonly keeper: ConnectionKeeper;
  readonly #writeOut: (bytes: Uint8Array) => void;
  readonly #failed: (error: unknown) => void;
  readonly #isOpen: () => boolean;
  /** Waiting writes and the sequence id each needs stored first (0: none). */
  #queue: Array<{ readonly bytes: Uint8Array; readonly sequenceId: number }> = [];
  #storedThrough: number;
  /** The client's progress stored so far: what may be acknowledged to it. */
  #receivedStored: number;
  #inbound: Inbound | undefined;
  #inboundStored: Promise<void> = Promise.resolve();
  #failedOnce = false;

  /**
   * `stored`: what is stored already, for a connection taken over: the last message sent
   * (replayed at once) and the client's progress.
   */
  constructor(
    keeper: ConnectionKeeper,
    writeOut: (bytes: Uint8Array) => void,
    failed: (error: unknown) => void,
    isOpen: () => boolean,
    stored: { readonly sentThrough: number; readonly receivedThrough: number } = { sentThrough: 0, receivedThrough: 0 },
  ) {
    this.keeper = keeper;
    this.#storedThrough = stored.sentThrough;
    this.#receivedStored = stored.receivedThrough;
    this.#writeOut = writeOut;
    this.#failed = failed;
    this.#isOpen = isOpen;
  }

  /** Stores message `sequenceId` (a Completion answering `answers`); its write waits for it. */
  store(sequenceId: number, bytes: Uint8Array, answers: string | undefined): void {
    this.keeper.sent(sequenceId, bytes, answers).then(
      () => this.#stored(sequenceId),
      (error: unknown) => this.#fail(error),
    );
  }

  /** Writes `bytes` once message `sequenceId` (0: none) and everything before it is stored. */
  write(bytes: Uint8Array, sequenceId = 0): void {
    if (this.#queue.length === 0 && sequenceId <= this.#storedThrough) return this.#writeOut(bytes);
    this.#queue.push({ bytes, sequenceId });
  }

  /** The newest of the client's messages whose receipt is stored: an Ack may go no further (the next node would not know of it). */
  get receivedStored(): number {
    return this.#receivedStored;
  }

  /**
   * Runs `run` once the client's progress of this turn is stored, after those held before it.
   * `received`: the client's trackable message just counted (its id, and the message when it was
   * read, so that the calls it opens or closes are stored too); none for a message that is not.
   */
  hold(run: () => void, received?: { readonly through: number; readonly message?: HubMessage }): void {
    let batch = this.#inbound;
    if (batch === undefined) {
      batch = this.#inbound = { runs: [], opened: [], closed: [], through: 0 };
      queueMicrotask(() => this.#storeInbound());
    }
    batch.runs.push(run);
    if (received === undefined) return;
    batch.through = received.through;
    const message = received.message;
    if (message === undefined) return;
    if ((message.type === MessageType.Invocation || message.type === MessageType.StreamInvocation) && message.invocationId !== undefined) {
      batch.opened.push(message.invocationId);
    } else if (message.type === MessageType.CancelInvocation) {
      batch.closed.push(message.invocationId);
    }
  }

  /** Writes everything that waits, stored or not (the connection is ending: there is nothing left to resume). */
  flush(): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const { bytes } of queue) this.#writeOut(bytes);
  }

  /** Drops what waits to be written (the transport is gone: what was trackable is replayed from the buffer). */
  discard(): void {
    this.#queue = [];
  }

  #stored(sequenceId: number): void {
    if (sequenceId > this.#storedThrough) this.#storedThrough = sequenceId;
    let written = 0;
    while (written < this.#queue.length && this.#queue[written]!.sequenceId <= this.#storedThrough) this.#writeOut(this.#queue[written++]!.bytes);
    if (written > 0) this.#queue = this.#queue.slice(written);
  }

  #storeInbound(): void {
    const batch = this.#inbound!;
    this.#inbound = undefined;
    const stored = batch.through === 0 ? undefined : this.keeper.received(batch.through, batch.opened, batch.closed);
    // Handled below, once the batches before it are: marked handled now, so that it is never reported unhandled meanwhile.
    stored?.catch(() => undefined);
    this.#inboundStored = this.#inboundStored
      .then(() => stored)
      .then(
        () => {
          if (batch.through > this.#receivedStored) this.#receivedStored = batch.through;
          for (const run of batch.runs) if (this.#isOpen()) run();
        },
        (error: unknown) => this.#fail(error),
      );
  }

  #fail(error: unknown): void {
    if (this.#failedOnce) return;
    this.#failedOnce = true;
    this.#queue = [];
    this.#failed(error);
  }
}
