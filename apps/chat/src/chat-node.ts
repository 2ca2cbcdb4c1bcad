/**
 * The node that serves a page, as the page is told of it: its id, and whether its rooms are in
 * memory, shared over Redis, or cut off because Redis does not answer.
 *
 * @module
 */
import type { NodeStatus } from "./contract.js";
import type { RedisAvailability } from "./redis-availability.js";

/**
 * @example
 * ```ts
 * const node = new ChatNode(manager.nodeId, availability);
 * node.onStatusChange((status) => console.log(status.rooms)); // "redis-lost", later "redis"
 * ```
 */
export class ChatNode {
  /** The backplane's id for this node (the admin page shows the same), or `local` in memory. */
  readonly nodeId: string;
  readonly #availability: RedisAvailability | undefined;

  /** A node in memory without `availability`; shared over Redis with it. */
  constructor(nodeId: string, availability?: RedisAvailability) {
    this.nodeId = nodeId;
    this.#availability = availability;
  }

  get status(): NodeStatus {
    const rooms = this.#availability === undefined ? "memory" : this.#availability.isAvailable ? "redis" : "redis-lost";
    return { nodeId: this.nodeId, rooms };
  }

  /** Calls `listener` with the new status whenever Redis is lost or back; returns a function that stops it. */
  onStatusChange(listener: (status: NodeStatus) => void): () => void {
    // In memory, nothing changes.
    return this.#availability?.onChange(() => listener(this.status)) ?? (() => undefined);
  }
}
