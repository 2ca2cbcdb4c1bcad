/**
 * The Redis keys of a hub's durable delivery (`delivery: "durable"`): one stream per shard, and
 * beside each stream its epoch key, which says which life of Redis the stream belongs to. Both
 * keys of a shard carry the same hash tag, so that on Redis Cluster they live in one slot (a
 * script may touch both), and different shards land on different masters, as sharded pub/sub
 * channels do.
 *
 * @module
 */

/** Hash tags end at the first `}`: braces inside a name are percent-encoded (as are `%` and `:` already). */
const escapeTag = (text: string): string => text.replace(/\{/g, "%7B").replace(/\}/g, "%7D");

/**
 * @example
 * ```ts
 * const keys = new StreamKeys("myapp:chat", 3);
 * keys.stream(0); // "myapp:chat:stream:{myapp:chat#0}"
 * keys.epoch(0);  // "myapp:chat:stream-epoch:{myapp:chat#0}"
 * keys.shardOf("node-a"); // 0, 1 or 2: every message of one sender goes to one shard (its order is kept)
 * ```
 */
export class StreamKeys {
  /** The hub's `{prefix}:{hub}` (escaped, as channels.ts makes it). */
  readonly base: string;
  readonly shards: number;

  constructor(base: string, shards: number) {
    if (!Number.isInteger(shards) || shards < 1) throw new TypeError(`streamShards must be a positive integer; got ${shards}.`);
    this.base = base;
    this.shards = shards;
  }

  /** The stream of one shard. */
  stream(shard: number): string {
    return `${this.base}:stream:{${escapeTag(this.base)}#${shard}}`;
  }

  /** The epoch key beside the stream of one shard (same slot). */
  epoch(shard: number): string {
    return `${this.base}:stream-epoch:{${escapeTag(this.base)}#${shard}}`;
  }

  /** The shard a sender writes to: always the same one, so that its messages stay in order. */
  shardOf(senderId: string): number {
    if (this.shards === 1) return 0;
    // FNV-1a: stable across processes and versions, unlike anything keyed on object identity.
    let hash = 0x811c9dc5;
    for (let i = 0; i < senderId.length; i++) hash = Math.imul(hash ^ senderId.charCodeAt(i), 0x01000193);
    return (hash >>> 0) % this.shards;
  }
}
