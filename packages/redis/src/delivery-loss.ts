/**
 * What durable delivery tells the application when catching up is impossible: messages stored
 * for this node that it can no longer read. Each loss is counted (`BackplaneStats.messagesLost`,
 * `lossIncidents`; the `hubwire.backplane.lost` metric), logged at error level with where it
 * happened, handed to the `onDeliveryLoss` listeners, and, once per incident, the node's
 * connections of the hub are closed with `allowReconnect` so that their clients come back and
 * resynchronise (fetch what they may have missed) instead of going on with a hole.
 *
 * @module
 * @example
 * ```ts
 * redisLifetimeManager({
 *   redis: process.env.REDIS_URL!,
 *   delivery: "durable",
 *   onDeliveryLoss: (loss) => alert(`${loss.hubName}: ${loss.lost ?? "unknown"} message(s) lost (${loss.reason})`),
 * });
 * ```
 */
import type { LossReason } from "./stream-reader.js";

export type { LossReason } from "./stream-reader.js";

/** One loss that a node of a hub found. */
export interface DeliveryLoss {
  readonly hubName: string;
  /** The node that found it (its server id). */
  readonly nodeId: string;
  /**
   * - `stream-reset`: Redis lost the stream (restarted without persistence, flushed, failed over
   *   to a replica that was behind); what was stored and not yet read is gone.
   * - `trimmed`: entries this node had not read yet were trimmed (`streamMaxLength` reached while
   *   it was away or behind).
   * - `gap`: a sender's messages are missing, counted exactly once its next message is read;
   *   after a reset or a trim, this is where the count of what they lost arrives.
   */
  readonly reason: LossReason;
  /** The stream read. */
  readonly stream: string;
  /** Messages lost, when known (always for `gap`; undefined for `stream-reset` and `trimmed`, counted per sender by the gaps that follow). */
  readonly lost: number | undefined;
  /** For `gap`: the node whose messages were lost. */
  readonly senderId: string | undefined;
  /** The last entry this node had read. */
  readonly lastId: string;
  /** This node's connections of the hub closed with `allowReconnect` for it (0 when an earlier incident already closed them). */
  readonly closedConnections: number;
}
