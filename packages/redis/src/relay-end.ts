/**
 * One node's end of a relay (`connection-relays.ts`), as a WebSocket: on the holder it stands for
 * the client's socket, on the entry for the holder. Frames it sends are numbered; frames it
 * receives are delivered in order, a repeat dropped and a gap closing the relay (1011) on both
 * nodes; while paused, what arrives waits here and the other node is told to stop reading.
 *
 * @module
 */
import type { Logger, RelaySocket, WebSocketListener } from "@hubwire/server";
import { type Envelope, EnvelopeKind } from "./envelope.js";

/** What an end needs of the relays it belongs to. */
export interface RelayEndOwner {
  readonly serverId: string;
  readonly logger: Logger;
  /** Publishes to the end's other node; a frame that cannot be published breaks the relay. */
  send(end: RelayEnd, envelope: Envelope): void;
  /** The end broke (counted). */
  broke(): void;
  /** The end closed. */
  forget(end: RelayEnd): void;
}

/** The close code for a relay that broke (lost frames, a node gone): the client re-attaches. */
export const brokenRelay = 1011;

/**
 * One node's end of a relay, as a WebSocket: on the holder it stands for the client's socket (the
 * connection's transport reads and writes it), on the entry for the holder (the client's socket is
 * spliced to it). `send` publishes a numbered frame to the other node; frames from the other node
 * arrive at the listener in order.
 *
 * @example
 * ```ts
 * const end = new RelayEnd(relays, "node-1:7", "node-2");
 * end.listen({ message: (data, isBinary) => client.send(data, isBinary), closed: (code) => client.close(code) });
 * end.send(frame, false); // a RelayFrame numbered 0 to node-2
 * ```
 */
export class RelayEnd implements RelaySocket {
  readonly relayId: string;
  /** The other node. */
  readonly peer: string;
  readonly #relays: RelayEndOwner;
  #listener: WebSocketListener | undefined;
  #flow: ((paused: boolean) => void) | undefined;
  #open = true;
  #sent = 0;
  #expected = 0;
  /** This end does not read: frames wait here (the other node pauses its client when told). */
  #paused = false;
  #closedWith: readonly [code: number, reason: string] | undefined;
  /** Frames that arrived before a listener, or while paused. */
  readonly #waiting: Array<readonly [Uint8Array, boolean]> = [];

  constructor(relays: RelayEndOwner, relayId: string, peer: string) {
    this.#relays = relays;
    this.relayId = relayId;
    this.peer = peer;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** What Redis has not taken yet is the publisher's; nothing waits here. */
  get bufferedBytes(): number {
    return 0;
  }

  listen(listener: WebSocketListener): void {
    this.#listener = listener;
    this.#deliver();
    const closed = this.#closedWith;
    // Closed before anyone listened (the other node ended it during the client's handshake).
    if (closed !== undefined) queueMicrotask(() => listener.closed(...closed));
  }

  /** On the entry: the holder stopped (true) or restarted (false) reading. */
  onFlow(listener: (paused: boolean) => void): void {
    this.#flow = listener;
  }

  send(data: Uint8Array, isBinary: boolean): void {
    if (!this.#open) return;
    const { relayId } = this;
    this.#relays.send(this, { kind: EnvelopeKind.RelayFrame, relayId, serverId: this.#relays.serverId, seq: this.#sent++, isBinary, data });
  }

  close(code: number, reason = ""): void {
    if (!this.#open) return;
    this.#relays.send(this, { kind: EnvelopeKind.RelayClose, relayId: this.relayId, serverId: this.#relays.serverId, code, reason });
    this.#end(code, reason);
  }

  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    if (this.#open) this.#relays.send(this, { kind: EnvelopeKind.RelayFlow, relayId: this.relayId, serverId: this.#relays.serverId, paused: true });
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#open) this.#relays.send(this, { kind: EnvelopeKind.RelayFlow, relayId: this.relayId, serverId: this.#relays.serverId, paused: false });
    this.#deliver();
  }

  /** @internal A frame from the other node. */
  receiveFrame(seq: number, data: Uint8Array, isBinary: boolean): void {
    if (!this.#open || seq < this.#expected) return;
    if (seq > this.#expected) {
      this.#relays.logger.log("warn", "Frames of a relay were lost between nodes; the relay closes.", {
        relayId: this.relayId,
        expected: this.#expected,
        received: seq,
      });
      return this.fail("Frames were lost between nodes.", true);
    }
    this.#expected++;
    this.#waiting.push([data, isBinary]);
    this.#deliver();
  }

  /** @internal The other node's reading stopped or restarted. */
  receiveFlow(paused: boolean): void {
    if (this.#open) this.#flow?.(paused);
  }

  /** @internal The other node closed the relay. */
  closedByPeer(code: number, reason: string): void {
    if (!this.#open) return;
    this.#deliver();
    this.#end(code, reason);
  }

  /** @internal The relay broke: both ends close with 1011 (`tell`: the other node may still hear it). */
  fail(reason: string, tell: boolean): void {
    if (!this.#open) return;
    this.#relays.broke();
    if (tell) this.close(brokenRelay, reason);
    else this.#end(brokenRelay, reason);
  }

  #deliver(): void {
    const listener = this.#listener;
    if (listener === undefined) return;
    while (!this.#paused && this.#waiting.length > 0) {
      const [data, isBinary] = this.#waiting.shift()!;
      listener.message(data, isBinary);
    }
  }

  #end(code: number, reason: string): void {
    this.#open = false;
    this.#relays.forget(this);
    const listener = this.#listener;
    if (listener === undefined) this.#closedWith = [code, reason];
    // As a socket does, the close is reported after the call that caused it returns.
    queueMicrotask(() => listener?.closed(code, reason));
  }
}
