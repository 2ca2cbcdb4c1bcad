/**
 * Whether the backplane works, and the heartbeat that finds out: healthy while both Redis
 * connections are ready and the last heartbeat publish was answered (a paused Redis keeps its
 * sockets "ready"). Each change is logged ("The Redis backplane is back." / "The Redis backplane
 * is unavailable.") and told to listeners.
 *
 * @module
 */
import type { Logger } from "@hubwire/server";

export interface BackplaneHealthOptions {
  readonly serverId: string;
  /** Whether both Redis connections are ready. */
  isConnected(): boolean;
  /** Announces this node and probes Redis with the same publish; rejects if Redis did not take it. */
  beat(): Promise<void>;
  readonly heartbeatIntervalMs: number;
  readonly logger: Logger;
}

/**
 * @example
 * ```ts
 * const health = new BackplaneHealth({ serverId, isConnected: () => connections.isReady, beat: publishHeartbeat, heartbeatIntervalMs: 2_000, logger });
 * health.onChange((healthy) => console.log(healthy ? "up" : "down"));
 * void health.beat(); // the first one at once; then every interval
 * ```
 */
export class BackplaneHealth {
  readonly #options: BackplaneHealthOptions;
  readonly #listeners = new Set<(healthy: boolean) => void>();
  readonly #heartbeat: NodeJS.Timeout;
  /** Whether the last heartbeat publish went through (a paused Redis keeps its sockets "ready"). */
  #probeOk = true;
  #healthy: boolean;
  #closed = false;

  constructor(options: BackplaneHealthOptions) {
    this.#options = options;
    this.#healthy = this.#compute();
    this.#heartbeat = setInterval(() => void this.beat(), options.heartbeatIntervalMs).unref();
  }

  get isHealthy(): boolean {
    return this.#healthy;
  }

  /** Calls `listener` whenever health changes; returns a function that stops it. */
  onChange(listener: (healthy: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Announces this node and probes Redis now (also done every heartbeat interval). */
  async beat(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#options.beat();
      this.#probeOk = true;
    } catch {
      this.#probeOk = false;
    }
    this.update();
  }

  /** Looks again: a connection's status may have changed. */
  update(): void {
    const healthy = this.#compute();
    if (healthy === this.#healthy) return;
    this.#healthy = healthy;
    this.#options.logger.log(healthy ? "info" : "warn", healthy ? "The Redis backplane is back." : "The Redis backplane is unavailable.", {
      serverId: this.#options.serverId,
    });
    for (const listener of this.#listeners) listener(healthy);
  }

  /** Stops the heartbeat. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#heartbeat);
  }

  #compute(): boolean {
    return this.#probeOk && this.#options.isConnected();
  }
}
