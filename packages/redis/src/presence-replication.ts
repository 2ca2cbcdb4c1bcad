/**
 * Presence across nodes: every node keeps a copy of every node's connections, users and groups
 * (the server's `PresenceMap`), so `hubContext(hub).presence` answers without a round trip.
 *
 * - A node's own changes go out as numbered deltas, gathered per event-loop turn, on the hub's
 *   `all` channel.
 * - Pub/sub may lose a delta (an outage, a dropped subscriber). A node that sees a gap in another
 *   node's numbers, or a heartbeat that names a number it has not seen, asks that node for its
 *   whole presence (a snapshot, answered on the asking node's server channel) and replaces what
 *   it knew. A node that starts asks each node it hears from the same way.
 * - A node that stops answering is dropped when its liveness runs out (three heartbeat
 *   intervals), checked every interval: its users with no other connection go offline.
 *
 * @module
 */
import type { Logger, PresenceEntry, PresenceMap } from "@hubwire/server";
import { EnvelopeKind, type EnvelopeOf, type PresenceOp } from "./envelope.js";

/** What replication needs of its manager. */
export interface PresenceReplicationOptions {
  readonly serverId: string;
  readonly map: PresenceMap;
  /** Publishes this node's delta to every node. */
  publishDelta(delta: EnvelopeOf<typeof EnvelopeKind.PresenceDelta>): Promise<unknown>;
  /** Asks a node for its snapshot. */
  requestSnapshot(serverId: string): Promise<unknown>;
  /** Answers a node's request with this node's snapshot. */
  sendSnapshot(toServerId: string, snapshot: EnvelopeOf<typeof EnvelopeKind.PresenceSnapshot>): Promise<unknown>;
  /** The other nodes alive now. */
  liveNodeIds(): readonly string[];
  /** How often dead nodes are looked for, and how long an unanswered snapshot request waits before it is asked again. */
  readonly heartbeatIntervalMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * @example
 * ```ts
 * const replication = new PresenceReplication({ serverId, map, publishDelta, requestSnapshot, sendSnapshot, liveNodeIds, heartbeatIntervalMs, logger });
 * replication.connected("c1", "ada"); // local; goes out as a delta
 * router: onPresenceDelta: (delta) => replication.delta(delta)
 * ```
 */
export class PresenceReplication {
  readonly #options: PresenceReplicationOptions;
  readonly #now: () => number;
  /** The number of this node's last delta sent. */
  #seq = 0;
  #pending: PresenceOp[] = [];
  #flushScheduled = false;
  /** Per other node, the number of its last delta applied here. */
  readonly #known = new Map<string, number>();
  /** Per other node, when its snapshot was last asked for (cleared when it arrives). */
  readonly #asked = new Map<string, number>();
  readonly #sweep: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(options: PresenceReplicationOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#sweep = setInterval(() => this.sweep(), options.heartbeatIntervalMs);
    this.#sweep.unref?.();
  }

  /** The number of this node's last delta sent, for its heartbeat. */
  get seq(): number {
    return this.#seq;
  }

  // This node's changes.

  connected(connectionId: string, userId: string | null): void {
    this.#options.map.connect(this.#options.serverId, connectionId, userId);
    this.#queue([0, connectionId, userId]);
  }

  disconnected(connectionId: string): void {
    this.#options.map.disconnect(this.#options.serverId, connectionId);
    this.#queue([1, connectionId]);
  }

  joined(connectionId: string, group: string): void {
    this.#options.map.join(this.#options.serverId, connectionId, group);
    this.#queue([2, connectionId, group]);
  }

  left(connectionId: string, group: string): void {
    this.#options.map.leave(this.#options.serverId, connectionId, group);
    this.#queue([3, connectionId, group]);
  }

  /** Sends what changed since the last delta, if anything did. */
  flush(): void {
    if (this.#pending.length === 0 || this.#closed) return;
    const ops = this.#pending;
    this.#pending = [];
    this.#seq++;
    this.#options
      .publishDelta({ kind: EnvelopeKind.PresenceDelta, serverId: this.#options.serverId, seq: this.#seq, ops })
      // Lost deltas are found by the others from this node's heartbeat, and resynchronised.
      .catch((error: unknown) => this.#options.logger.log("debug", "A presence delta was not published.", { seq: this.#seq, error }));
  }

  // The other nodes'.

  /** Another node's heartbeat: a number it has sent and this node has not seen means something was missed. */
  heartbeat(serverId: string, seq: number): void {
    const known = this.#known.get(serverId);
    if (known === undefined && seq === 0) this.#known.set(serverId, 0);
    else if (seq > (known ?? 0) || known === undefined) this.#ask(serverId);
  }

  delta(envelope: EnvelopeOf<typeof EnvelopeKind.PresenceDelta>): void {
    const { serverId, seq, ops } = envelope;
    const known = this.#known.get(serverId) ?? 0;
    if (seq <= known) return;
    if (seq !== known + 1) return this.#ask(serverId);
    this.#known.set(serverId, seq);
    const map = this.#options.map;
    for (const op of ops) {
      switch (op[0]) {
        case 0:
          map.connect(serverId, op[1], op[2]);
          break;
        case 1:
          map.disconnect(serverId, op[1]);
          break;
        case 2:
          map.join(serverId, op[1], op[2]);
          break;
        case 3:
          map.leave(serverId, op[1], op[2]);
          break;
      }
    }
  }

  snapshot(envelope: EnvelopeOf<typeof EnvelopeKind.PresenceSnapshot>): void {
    const { serverId, seq, records } = envelope;
    if (seq < (this.#known.get(serverId) ?? 0)) return;
    this.#asked.delete(serverId);
    this.#known.set(serverId, seq);
    const entries: PresenceEntry[] = records.map(([connectionId, userId, groups]) => ({ connectionId, userId, groups }));
    this.#options.map.replaceNode(serverId, entries);
  }

  /** A node asks for this node's whole presence: the changes not sent yet go first, so that the snapshot's number covers them. */
  syncRequested(envelope: EnvelopeOf<typeof EnvelopeKind.PresenceSyncRequest>): void {
    this.flush();
    const records = this.#options.map.entriesOf(this.#options.serverId).map((entry) => [entry.connectionId, entry.userId, entry.groups] as const);
    this.#options
      .sendSnapshot(envelope.serverId, { kind: EnvelopeKind.PresenceSnapshot, serverId: this.#options.serverId, seq: this.#seq, records })
      .catch((error: unknown) =>
        this.#options.logger.log("debug", "A presence snapshot was not sent; the node will ask again.", { to: envelope.serverId, error }),
      );
  }

  /** Drops the nodes whose liveness ran out: their users with no other connection go offline. */
  sweep(): void {
    const live = new Set(this.#options.liveNodeIds());
    for (const nodeId of this.#options.map.nodes()) {
      if (nodeId === this.#options.serverId || live.has(nodeId)) continue;
      this.#options.logger.log("info", "A node stopped answering; its connections left presence.", { nodeId });
      this.#options.map.dropNode(nodeId);
    }
    for (const nodeId of [...this.#known.keys()]) {
      if (!live.has(nodeId)) {
        this.#known.delete(nodeId);
        this.#asked.delete(nodeId);
      }
    }
  }

  close(): void {
    this.flush();
    this.#closed = true;
    clearInterval(this.#sweep);
  }

  #queue(op: PresenceOp): void {
    this.#pending.push(op);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.flush();
    });
  }

  #ask(serverId: string): void {
    const askedAt = this.#asked.get(serverId);
    if (askedAt !== undefined && this.#now() - askedAt < this.#options.heartbeatIntervalMs) return;
    this.#asked.set(serverId, this.#now());
    this.#options
      .requestSnapshot(serverId)
      .catch((error: unknown) =>
        this.#options.logger.log("debug", "A presence snapshot could not be asked for; asking again later.", { from: serverId, error }),
      );
  }
}
