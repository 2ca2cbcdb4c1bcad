/**
 * Which other nodes of the hub are alive, from their heartbeats, and the outage window in which
 * a send to all is checked against them.
 *
 * Nodes announce themselves on the hub's `all` channel every heartbeat interval; one unheard for
 * three intervals is gone. From the moment either of this node's Redis connections drops until
 * three intervals after both are back, nothing can be heard, so the nodes counted are those
 * heard within three intervals before the outage began: a send to all that Redis hands to fewer
 * subscribers than that reached a node that has not re-subscribed yet.
 *
 * @module
 */
import { systemClock } from "./clock.js";

/** Heartbeat intervals a node may stay unheard and still count; also the recovery window. */
const intervalsAlive = 3;

/**
 * @example
 * ```ts
 * const liveness = new NodeLiveness(2_000, connections.isReady);
 * liveness.heard("other-node");              // on each of its heartbeats
 * if (liveness.observeConnection(connections.isReady)) void subscriptions.restore();
 * liveness.liveNodeCount;                    // 1
 * ```
 */
export class NodeLiveness {
  readonly #heartbeatIntervalMs: number;
  readonly #now: () => number;
  /** Other nodes of this hub, by server id, and when each was last heard. */
  readonly #nodes = new Map<string, number>();
  /**
   * When this node lost either Redis connection, kept through the recovery window after both are
   * back: meanwhile sends to all check that every node alive when it began received them.
   */
  #outageSince: number | undefined;
  /** When the recovery window ends: three heartbeat intervals after both connections are back. */
  #recoveringUntil = 0;
  #wasReady: boolean;
  #everReady: boolean;

  /** `isReady`: whether both Redis connections are ready now. */
  constructor(heartbeatIntervalMs: number, isReady: boolean, now: () => number = systemClock.now) {
    this.#heartbeatIntervalMs = heartbeatIntervalMs;
    this.#now = now;
    this.#wasReady = this.#everReady = isReady;
  }

  /** Another node's heartbeat arrived; true when that node was not counted before (it is new, or back). */
  heard(serverId: string): boolean {
    // Nodes no longer counted are forgotten here, so that the table holds only those that count.
    const cutoff = this.#cutoff();
    for (const [other, seen] of this.#nodes) if (seen < cutoff) this.#nodes.delete(other);
    const isNew = !this.#nodes.has(serverId);
    this.#nodes.set(serverId, this.#now());
    return isNew;
  }

  /** The ids of the nodes {@link NodeLiveness.liveNodeCount} counts. */
  liveNodeIds(): string[] {
    const cutoff = this.#cutoff();
    return [...this.#nodes].filter(([, seen]) => seen >= cutoff).map(([serverId]) => serverId);
  }

  /**
   * Other nodes heard within the last three heartbeat intervals; during an outage and its recovery
   * window, within three intervals before the outage began (nothing can be heard while it lasts).
   */
  get liveNodeCount(): number {
    const cutoff = this.#cutoff();
    let count = 0;
    for (const seen of this.#nodes.values()) if (seen >= cutoff) count++;
    return count;
  }

  /** Nodes last heard before this are not counted. */
  #cutoff(): number {
    return (this.outageStart() ?? this.#now()) - intervalsAlive * this.#heartbeatIntervalMs;
  }

  /**
   * Either connection may have changed status; `ready`: both are ready now. True when they have
   * just come back (subscriptions asked for while Redis was away may have failed).
   */
  observeConnection(ready: boolean): boolean {
    // The outage starts at the first connection lost, not when both are back: a publisher can be
    // ready again while a subscriber (this node's or another's) still is not.
    if (!ready && this.#everReady) this.#outageSince ??= this.#now();
    if (ready && !this.#wasReady && this.#everReady) this.#recoveringUntil = this.#now() + intervalsAlive * this.#heartbeatIntervalMs;
    const cameBack = ready && !this.#wasReady;
    if (ready) this.#everReady = true;
    this.#wasReady = ready;
    return cameBack;
  }

  /** When the current outage began, or undefined outside an outage and its recovery window. */
  outageStart(): number | undefined {
    if (this.#outageSince !== undefined && this.#wasReady && this.#now() >= this.#recoveringUntil) this.#outageSince = undefined;
    return this.#outageSince;
  }
}
