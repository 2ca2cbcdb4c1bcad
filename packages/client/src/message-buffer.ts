/**
 * Stateful reconnect, the client's half (matching the server and SignalR's MessageBuffer): number
 * the trackable messages sent (types 1 to 5), keep them until the server's Ack, and after the
 * transport is re-attached (`reattachment.ts`) send Sequence and replay; on the receiving side
 * drop everything until the server's Sequence and duplicates after it, and acknowledge within a
 * tenth of a second of receiving (the official clients wait a second). Over any of the three transports (SignalR's clients resume WebSockets only).
 *
 * @module
 */
import { type HubMessage, isTrackableMessage, MessageType } from "@hubwire/protocol";
import * as ProtocolDefaults from "@hubwire/protocol/defaults";
import { OrderedSends } from "./ordered-sends.js";
import { abandon, Reattachment, type ResumeContext } from "./reattachment.js";

export type { ResumeContext } from "./reattachment.js";

interface Buffered {
  readonly id: number;
  readonly data: string | Uint8Array;
  readonly release: () => void;
}

const sizeOf = (data: string | Uint8Array) => (typeof data === "string" ? data.length : data.byteLength);

/**
 * What a connection asks of stateful reconnect: a buffer made per connection, given what it needs
 * of the connection. Made by `statefulReconnect()` from `@hubwire/client/stateful-reconnect`.
 */
export type StatefulReconnect = (context: ResumeContext) => MessageBuffer;

export class MessageBuffer {
  readonly #bufferBytes: number;
  readonly #context: ResumeContext;
  readonly #reattachment: Reattachment;
  readonly #sends: OrderedSends;
  #messages: Buffered[] = [];
  #bytes = 0;
  #sent = 0;
  #reconnecting = false;
  #waitForSequence = false;
  #nextReceivingId = 1;
  #latestReceivedId = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(bufferBytes: number, context: ResumeContext) {
    this.#bufferBytes = bufferBytes;
    this.#context = context;
    this.#reattachment = new Reattachment(this, context);
    this.#sends = new OrderedSends((data) => context.send(data));
  }

  /** The connection's transport dropped: re-attach it (true), or not (false: the drop ends the connection). */
  dropped(error: Error | undefined, connect: () => Promise<void>, end: (error: Error | undefined) => void): boolean {
    return this.#reattachment.dropped(error, connect, end);
  }

  /** Sends a message; resolves once there is room in the buffer again (back-pressure). */
  async send(message: HubMessage): Promise<void> {
    const data = this.#context.protocol.write(message);
    let room = Promise.resolve();
    if (isTrackableMessage(message)) {
      this.#bytes += sizeOf(data);
      let release = () => {};
      if (this.#bytes >= this.#bufferBytes) room = new Promise((resolve) => (release = resolve));
      this.#messages.push({ id: ++this.#sent, data, release });
    }
    if (!this.#reconnecting) {
      await this.#sends.send(data).catch((error: unknown) => this.#sendFailed(error));
    }
    await room;
  }

  /** Whether an incoming message should be processed; handles Ack and Sequence itself. */
  accept(message: HubMessage): boolean {
    if (this.#waitForSequence) {
      if (message.type !== MessageType.Sequence) return false;
      this.#waitForSequence = false;
    }
    if (message.type === MessageType.Ack) {
      this.#ack(message.sequenceId);
      return false;
    }
    if (message.type === MessageType.Sequence) {
      // Past the newest message received there would be a gap; past the next one expected is fine
      // after a replay cut short (it can be behind what this side acknowledged).
      if (message.sequenceId > this.#latestReceivedId + 1) throw new Error("Sequence ID greater than amount of messages we've received.");
      this.#nextReceivingId = message.sequenceId;
      return false;
    }
    if (!isTrackableMessage(message)) return true;
    const id = this.#nextReceivingId++;
    this.#scheduleAck();
    if (id <= this.#latestReceivedId) return false;
    this.#latestReceivedId = id;
    return true;
  }

  /** Whether input is dropped until the server's Sequence (after a re-attach). */
  get awaitingSequence(): boolean {
    return this.#waitForSequence;
  }

  /** The transport dropped: hold sends, drop input until the server's Sequence. */
  disconnected(): void {
    this.#reconnecting = true;
    this.#waitForSequence = true;
  }

  /**
   * A new transport is up: send Sequence, then every unacknowledged message. All are handed to
   * the transport in one go, in order, before any new send: the server numbers what it receives by
   * arrival, so none may be skipped or overtaken (an Ack that arrives meanwhile must not change
   * what is replayed), and over HTTP they then share POSTs rather than take one each.
   */
  async resend(): Promise<void> {
    this.#sends.restart();
    const sends = [this.#sends.send(this.#context.protocol.write({ type: MessageType.Sequence, sequenceId: this.#messages[0]?.id ?? this.#sent + 1 }))];
    for (const message of this.#messages) sends.push(this.#sends.send(message.data));
    this.#reconnecting = false;
    await Promise.all(sends);
  }

  /** The connection is over: nothing will be acknowledged any more. */
  dispose(): void {
    clearTimeout(this.#ackTimer);
    for (const message of this.#messages) message.release();
    this.#messages = [];
  }

  #ack(sequenceId: number): void {
    let acked = 0;
    for (const message of this.#messages) {
      if (message.id > sequenceId) break;
      this.#bytes -= sizeOf(message.data);
      message.release();
      acked++;
    }
    this.#messages = this.#messages.slice(acked);
    if (this.#bytes < this.#bufferBytes) for (const message of this.#messages) message.release();
  }

  /**
   * A send (a message or an Ack) failed on a transport that still looks up (an HTTP POST): the
   * sends have halted, and the transport is dropped so that it is re-attached and the replay
   * carries what failed. A send of a link already dropped (its re-attach under way) changes
   * nothing: dropping the transport again would abort the new link's request.
   */
  #sendFailed(error: unknown): void {
    if (this.#reconnecting) return;
    this.disconnected();
    abandon(this.#context, error);
  }

  #scheduleAck(): void {
    if (this.#ackTimer !== undefined) return;
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = undefined;
      if (this.#reconnecting) return;
      void this.#sends
        .send(this.#context.protocol.write({ type: MessageType.Ack, sequenceId: this.#latestReceivedId }))
        .catch((error: unknown) => this.#sendFailed(error));
    }, ProtocolDefaults.ackIntervalMs);
  }
}
