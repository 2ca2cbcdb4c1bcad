/**
 * Whether this node's Redis answers, from two sources: its connections' states (closed,
 * reconnecting, ready) and the backplane's heartbeat, which also finds a Redis that keeps its
 * connections open but answers nothing (paused, overloaded). Each change is logged once, not once
 * per reconnect attempt, and told to listeners (the chat hub tells its pages).
 *
 * @module
 */
import type { Redis } from "ioredis";

/** The part of the Redis backplane (`RedisLifetimeManager`) that says whether it works. */
export interface BackplaneHealthSource {
  readonly isHealthy: boolean;
  onHealthChange(listener: (healthy: boolean) => void): () => void;
}

export interface RedisAvailabilityOptions {
  /** Where Redis is, without credentials, for the log lines. */
  readonly where: string;
  /** Where the "unavailable" and "back" lines go. */
  readonly log: (line: string) => void;
}

/**
 * @example
 * ```ts
 * const availability = new RedisAvailability({ where: "redis://127.0.0.1:6379", log: console.error });
 * availability.watchClient(store);
 * // ...once Redis has answered:
 * availability.start();
 * availability.watchBackplane(manager);
 * availability.onChange((isAvailable) => console.log(isAvailable ? "shared" : "on its own"));
 * ```
 */
export class RedisAvailability {
  readonly #options: RedisAvailabilityOptions;
  readonly #clients: Redis[] = [];
  readonly #backplanes: BackplaneHealthSource[] = [];
  readonly #listeners = new Set<(isAvailable: boolean) => void>();
  readonly #stops: Array<() => void> = [];
  #isStarted = false;
  #isClosed = false;
  #isAvailable = true;
  /** The last error a connection reported since Redis was last available: the reason the log gives. */
  #lastError: string | undefined;

  constructor(options: RedisAvailabilityOptions) {
    this.#options = options;
  }

  /** Whether every watched connection is ready and the backplane works. True until {@link start}. */
  get isAvailable(): boolean {
    return this.#isAvailable;
  }

  /**
   * Follows a connection. Its errors are always listened to (ioredis prints each failed reconnect
   * attempt of a client without an error listener), but say nothing before {@link start}: until
   * Redis has answered once, a failure is the start-up's to report.
   */
  watchClient(client: Redis): void {
    this.#clients.push(client);
    client.on("error", (error: Error) => {
      this.#lastError = error.message;
      this.#update();
    });
    for (const event of ["ready", "close", "end", "reconnecting"]) client.on(event, () => this.#update());
  }

  /** Follows the backplane's health: its heartbeat finds a Redis that answers nothing. */
  watchBackplane(backplane: BackplaneHealthSource): void {
    this.#backplanes.push(backplane);
    this.#stops.push(backplane.onHealthChange(() => this.#update()));
    this.#update();
  }

  /** Redis has answered: from now on, losing it is said (and its return). */
  start(): void {
    this.#isStarted = true;
    this.#update();
  }

  /** Calls `listener` whenever Redis is lost or back; returns a function that stops it. */
  onChange(listener: (isAvailable: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops saying anything (before the connections are closed on purpose). */
  close(): void {
    this.#isClosed = true;
    this.#listeners.clear();
    for (const stop of this.#stops.splice(0)) stop();
  }

  #update(): void {
    if (!this.#isStarted || this.#isClosed) return;
    const isConnected = this.#clients.every((client) => client.status === "ready");
    const isAvailable = isConnected && this.#backplanes.every((backplane) => backplane.isHealthy);
    if (isAvailable === this.#isAvailable) return;
    this.#isAvailable = isAvailable;
    const { where, log } = this.#options;
    if (isAvailable) {
      this.#lastError = undefined;
      log(`Redis at ${where} is back.`);
    } else {
      const reason = isConnected ? "no answer to the backplane's heartbeat" : (this.#lastError ?? "the connection closed");
      log(`Redis at ${where} is unavailable (${reason}): messages may not reach other servers until it is back.`);
    }
    for (const listener of this.#listeners) listener(isAvailable);
  }
}
