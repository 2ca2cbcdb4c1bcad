/**
 * Deadline-bounded publishing: a publish either is taken by Redis in time or rejects with a
 * `BackplaneError`, and is logged and counted. It is never queued for some unknown later time, so
 * memory stays bounded while Redis is away, and a send is never lost silently.
 *
 * @module
 */

import type { Logger } from "@hubwire/server";
import { SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { BackplaneError } from "./backplane-error.js";
import type { BackplaneStats } from "./backplane-metrics.js";
import type { DeadlineQueue } from "./deadline-queue.js";
import type { NodeLiveness } from "./node-liveness.js";
import type { RedisConnections } from "./redis-connections.js";

export interface BackplanePublisherOptions {
  readonly connections: RedisConnections;
  /** Bounds each publish; its timeout is `publishTimeoutMs`. */
  readonly deadlines: DeadlineQueue;
  readonly publishTimeoutMs: number;
  /** How many nodes a send to all must reach around an outage. */
  readonly liveness: NodeLiveness;
  /** Counts `published` and `publishFailures`. */
  readonly stats: BackplaneStats;
  readonly logger: Logger;
  /** Where each publish's PRODUCER span goes (heartbeats have none). */
  readonly tracer: Tracer;
}

/** How one publish is checked and counted. */
export interface PublishOptions {
  /** A send to every node (the `all` channel): around an outage, checked to have reached every node alive. */
  readonly toAll?: boolean;
  /** Not counted or logged (heartbeats). */
  readonly quiet?: boolean;
}

/**
 * @example
 * ```ts
 * const publisher = new BackplanePublisher({ connections, deadlines, publishTimeoutMs: 2_000, liveness, stats, logger, tracer: trace.getTracer("@hubwire/redis") });
 * await publisher.publish(channels.all, encodeEnvelope(envelope), { toAll: true }); // or rejects with BackplaneError
 * ```
 */
export class BackplanePublisher {
  readonly #options: BackplanePublisherOptions;

  constructor(options: BackplanePublisherOptions) {
    this.#options = options;
  }

  /**
   * Publishes, failing loudly when Redis cannot take it. `toAll`: every node, this one included,
   * subscribes to `all`; around an outage, fewer receivers than nodes known alive means one has not
   * re-subscribed yet and missed it. Checked if the outage was on when the publish was sent or when
   * it was answered (ioredis resends a publish that was in flight when the connection dropped).
   */
  async publish(channel: string, payload: Uint8Array, options: PublishOptions = {}): Promise<void> {
    if (options.quiet === true) return this.#publish(channel, payload, options);
    // OpenTelemetry's messaging conventions: one PRODUCER span per publish, named after its channel.
    const span = this.#options.tracer.startSpan(`publish ${channel}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        "messaging.system": "redis",
        "messaging.operation.type": "send",
        "messaging.operation.name": "publish",
        "messaging.destination.name": channel,
        "messaging.message.body.size": payload.length,
      },
    });
    try {
      await this.#publish(channel, payload, options);
    } catch (error) {
      span.setAttribute("error.type", (error as Error).name);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  }

  async #publish(channel: string, payload: Uint8Array, options: PublishOptions): Promise<void> {
    const { connections, deadlines, publishTimeoutMs, liveness, stats, logger } = this.#options;
    const fail = (error: BackplaneError): never => {
      if (options.quiet !== true) {
        stats.publishFailures++;
        logger.log("warn", "A backplane send failed.", { channel, error: error.message });
      }
      throw error;
    };
    if (!connections.isPublisherReady) {
      fail(new BackplaneError("The Redis backplane is unavailable: the message reached this node's connections only."));
    }
    const checkAtSend = options.toAll === true && liveness.outageStart() !== undefined;
    let receivers: number | undefined;
    try {
      receivers = await deadlines.bound(
        connections.publish(channel, payload),
        () => new BackplaneError(`Redis did not answer publishing within ${publishTimeoutMs} ms.`),
      );
    } catch (error) {
      fail(error instanceof BackplaneError ? error : new BackplaneError(`Publishing to Redis failed: ${(error as Error).message}`));
    }
    if (options.toAll === true && (checkAtSend || liveness.outageStart() !== undefined)) {
      const expected = 1 + liveness.liveNodeCount;
      if ((receivers ?? 0) < expected) fail(new BackplaneError(`The message reached ${receivers ?? 0} of ${expected} expected node(s) through Redis.`));
    }
    if (options.quiet !== true) stats.published++;
  }
}
