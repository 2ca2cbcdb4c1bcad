/**
 * Stateful reconnect, the client's half (matching the server and SignalR's MessageBuffer): number
 * the trackable messages sent (types 1 to 5), keep them until the server's Ack, and after the
 * WebSocket is re-attached send Sequence and replay; on the receiving side drop everything until
 * the server's Sequence and duplicates after it, and acknowledge about a second after receiving.
 *
 * @module
 */
import { type HubMessage, isTrackableMessage, MessageType } from "@hubwire/protocol";
import * as ProtocolDefaults from "@hubwire/protocol/defaults";

interface Buffered {
  readonly id: number;
  readonly data: string | Uint8Array;
  readonly release: () => void;
}

const sizeOf = (data: string | Uint8Array) => (typeof data === "string" ? data.length : data.byteLength);

/**
 * What a connection asks of stateful reconnect: a buffer made per connection, given how to write a
 * message and how to send bytes. Made by `statefulReconnect()` from `@hubwire/client/stateful-reconnect`.
 */
export type StatefulReconnect = (write: (message: HubMessage) => string | Uint8Array, transmit: (data: string | Uint8Array) => Promise<void>) => MessageBuffer;

export class MessageBuffer {
  readonly #bufferBytes: number;
  readonly #transmit: (data: string | Uint8Array) => Promise<void>;
  readonly #write: (message: HubMessage) => string | Uint8Array;
  #messages: Buffered[] = [];
  #bytes = 0;
  #sent = 0;
  #reconnecting = false;
  #waitForSequence = false;
  #nextReceivingId = 1;
  #latestReceivedId = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(bufferBytes: number, write: (message: HubMessage) => string | Uint8Array, transmit: (data: string | Uint8Array) => Promise<void>) {
    this.#bufferBytes = bufferBytes;
    this.#write = write;
    this.#transmit = transmit;
  }

  /** Sends a message; resolves once there is room in the buffer again (back-pressure). */
  async send(message: HubMessage): Promise<void> {
    const data = this.#write(message);
    let room = Promise.resolve();
    if (isTrackableMessage(message)) {
      this.#bytes += sizeOf(data);
      let release = () => {};
      if (this.#bytes >= this.#bufferBytes) room = new Promise((resolve) => (release = resolve));
      this.#messages.push({ id: ++this.#sent, data, release });
    }
    if (!this.#reconnecting) await this.#transmit(data).catch(() => this.disconnected());
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
      if (message.sequenceId > this.#nextReceivingId) throw new Error("Sequence ID greater than amount of messages we've received.");
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

  /** The transport dropped: hold sends, drop input until the server's Sequence. */
  disconnected(): void {
    this.#reconnecting = true;
    this.#waitForSequence = true;
  }

  /** A new transport is up: send Sequence, then every unacknowledged message. */
  async resend(): Promise<void> {
    await this.#transmit(this.#write({ type: MessageType.Sequence, sequenceId: this.#messages[0]?.id ?? this.#sent + 1 }));
    for (const message of this.#messages) await this.#transmit(message.data);
    this.#reconnecting = false;
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

  #scheduleAck(): void {
    if (this.#ackTimer !== undefined) return;
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = undefined;
      if (!this.#reconnecting) void this.#transmit(this.#write({ type: MessageType.Ack, sequenceId: this.#latestReceivedId })).catch(() => undefined);
    }, ProtocolDefaults.ackIntervalMs);
  }
}
