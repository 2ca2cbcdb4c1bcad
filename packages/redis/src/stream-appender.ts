/**
 * The sending half of durable delivery: each cross-node send is one XADD to this node's shard
 * stream, trimmed as it goes (`MAXLEN ~`), numbered among this node's messages, and carrying the
 * numbers of this node's sends that failed, so that a reader can tell a message it missed (a
 * loss) from one whose failure the sender already reported.
 *
 * A send either is stored by Redis in time (resolves) or rejects with a `BackplaneError` that is
 * logged and counted: `mayStillArrive` when Redis may have stored it anyway (a timeout, a dropped
 * connection), and always a `retry()` that stores the same message (same id) again. Readers
 * deliver an id once, so a retry never delivers twice. Nothing is queued here for later.
 *
 * @module
 */
import type { Logger } from "@hubwire/server";
import { BackplaneError } from "./backplane-error.js";
import type { BackplaneStats } from "./backplane-metrics.js";
import type { DeadlineQueue } from "./deadline-queue.js";
import type { RedisConnections } from "./redis-connections.js";
import { SeqRanges } from "./seq-ranges.js";
import { entryFields } from "./stream-entry.js";

export interface StreamAppenderOptions {
  readonly connections: RedisConnections;
  /** This node's stream (its shard's). */
  readonly stream: string;
  readonly serverId: string;
  /** Entries kept in the stream, about (`MAXLEN ~`). */
  readonly maxLength: number;
  /** Bounds each XADD; its timeout is `publishTimeoutMs`. */
  readonly deadlines: DeadlineQueue;
  readonly publishTimeoutMs: number;
  /** Counts `published` and `publishFailures`. */
  readonly stats: BackplaneStats;
  readonly logger: Logger;
}

/**
 * @example
 * ```ts
 * const appender = new StreamAppender({ connections, stream: keys.stream(keys.shardOf(serverId)), serverId, maxLength: 100_000, deadlines, publishTimeoutMs: 2_000, stats, logger });
 * await appender.append(messageId, encodeEnvelope(invocation)); // or rejects with BackplaneError (retry() on it)
 * ```
 */
export class StreamAppender {
  readonly #options: StreamAppenderOptions;
  /** This node's sends that failed and were not retried successfully. */
  readonly #failed = new SeqRanges();
  #seq = 0;

  constructor(options: StreamAppenderOptions) {
    this.#options = options;
  }

  /** The number of this node's newest send (each entry carries its sender's number). */
  get lastSeq(): number {
    return this.#seq;
  }

  /** Stores one message for every node, or rejects with a retryable BackplaneError. */
  append(messageId: string, envelope: Uint8Array): Promise<void> {
    // A number for every attempt, even one never sent: readers then see every failure reported.
    return this.#store(++this.#seq, messageId, envelope);
  }

  async #store(seq: number, messageId: string, envelope: Uint8Array): Promise<void> {
    const { connections, stream, serverId, maxLength, deadlines, publishTimeoutMs, stats, logger } = this.#options;
    const fail = (message: string, mayStillArrive: boolean): never => {
      this.#failed.add(seq);
      stats.publishFailures++;
      logger.log("warn", "A durable backplane send failed.", { stream, messageId, mayStillArrive, error: message });
      throw new BackplaneError(message, { messageId, mayStillArrive, retry: () => this.#store(seq, messageId, envelope) });
    };
    if (!connections.isPublisherReady) fail("The Redis backplane is unavailable: the message reached this node's connections only.", false);
    const fields = entryFields(serverId, seq, this.#failed.toArray(), envelope);
    try {
      await deadlines.bound(
        connections.publisher.xaddBuffer(stream, "MAXLEN", "~", String(maxLength), "*", ...fields) as Promise<unknown>,
        () => new BackplaneError(`Redis did not answer storing the message within ${publishTimeoutMs} ms.`),
      );
    } catch (error) {
      fail(error instanceof BackplaneError ? error.message : `Storing the message in Redis failed: ${(error as Error).message}`, true);
    }
    // A retry that is stored is no longer a failure: were it lost now, readers must count it.
    this.#failed.delete(seq);
    stats.published++;
  }
}
