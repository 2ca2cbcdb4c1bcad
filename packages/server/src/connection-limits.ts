/**
 * Caps on how many connections a server holds, in all and per client address, checked before
 * anything is allocated for a new connection: a negotiate (or a WebSocket that skips it) past a
 * cap is answered 503 (the server is full) or 429 (this address has enough) at once.
 *
 * A negotiated connection counts from its negotiate until it ends (or is reaped, unused, after
 * the disconnect timeout), so negotiates that are never used cannot pile up past the cap.
 *
 * @module
 */

/** Connection caps; absent means no cap. */
export interface ConnectionLimits {
  /** Connections the whole server holds (every hub together). Past it: 503. */
  readonly maxConnections?: number;
  /**
   * Connections from one client address. Past it: 429. The address is the server's
   * `clientAddress` for the request, by default the TCP peer's: behind a reverse proxy, set
   * `clientAddress` or cap at the proxy (docs/security.md).
   */
  readonly maxConnectionsPerAddress?: number;
}

/** Why a connection was refused, as the HTTP answer to give. */
export interface Refusal {
  readonly status: 429 | 503;
  readonly message: string;
}

/** A connection's place under the limits, given back when it ends. */
export interface Slot {
  release(): void;
}

const unlimited: Slot = { release: () => undefined };

/**
 * Counts connections against {@link ConnectionLimits}.
 *
 * @example
 * ```ts
 * const limiter = new ConnectionLimiter({ maxConnections: 50_000, maxConnectionsPerAddress: 100 });
 * const slot = limiter.admit(request.socket.remoteAddress);
 * if ("status" in slot) return respond(slot.status, slot.message);
 * connection.slot = slot; // its endpoint calls slot.release() when the connection ends
 * ```
 */
export class ConnectionLimiter {
  readonly #limits: ConnectionLimits;
  readonly #byAddress = new Map<string, number>();
  #total = 0;

  constructor(limits: ConnectionLimits = {}) {
    for (const [name, value] of Object.entries(limits)) {
      if (value !== undefined && (!Number.isInteger(value) || value < 1))
        throw new RangeError(`limits.${name} must be a whole number of at least 1 (got ${value}).`);
    }
    this.#limits = limits;
  }

  /**
   * Takes a slot for a connection from `address`; `release` gives it back (once). Without limits
   * nothing is counted, and every connection shares one slot that holds nothing.
   */
  admit(address: string | undefined): Refusal | Slot {
    const { maxConnections, maxConnectionsPerAddress } = this.#limits;
    if (maxConnections === undefined && maxConnectionsPerAddress === undefined) return unlimited;
    if (maxConnections !== undefined && this.#total >= maxConnections) {
      return { status: 503, message: "The server is at its connection limit; try again later." };
    }
    const key = address ?? "unknown";
    const fromAddress = this.#byAddress.get(key) ?? 0;
    if (maxConnectionsPerAddress !== undefined && fromAddress >= maxConnectionsPerAddress) {
      return { status: 429, message: "Too many connections from this address." };
    }
    this.#total++;
    this.#byAddress.set(key, fromAddress + 1);
    return new ConnectionSlot(this, key);
  }

  /** Gives back one connection from `key`; called once per slot by {@link ConnectionSlot.release}. */
  giveBack(key: string): void {
    this.#total--;
    const left = (this.#byAddress.get(key) ?? 1) - 1;
    if (left === 0) this.#byAddress.delete(key);
    else this.#byAddress.set(key, left);
  }
}

/**
 * One admitted connection's place under the limits, held for its life. A class, not a closure:
 * every open connection keeps one.
 */
export class ConnectionSlot implements Slot {
  readonly #limiter: ConnectionLimiter;
  readonly #key: string;
  #released = false;

  constructor(limiter: ConnectionLimiter, key: string) {
    this.#limiter = limiter;
    this.#key = key;
  }

  /** Frees the place; later calls do nothing. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#limiter.giveBack(this.#key);
  }
}
