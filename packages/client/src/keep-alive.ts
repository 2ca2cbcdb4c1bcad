/**
 * Keep-alive and the server timeout, SignalR's pair: ping the server when nothing has been sent
 * for `keepAliveIntervalMs` (so that it does not time the client out), and give up on the server
 * when nothing has come from it for `serverTimeoutMs`. The connection runs it only over a
 * transport without an inherent keep-alive.
 *
 * @module
 * @example
 * ```ts
 * const keepAlive = watchKeepAlive(15_000, 30_000, () => void sendPing(), () => void transport.stop());
 * keepAlive.start();
 * transport.onreceive = () => keepAlive.received();
 * ```
 */

/** What the connection tells its keep-alive. */
export interface KeepAlive {
  /** Starts (or restarts) watching, counting both directions from now. */
  start(): void;
  /** Stops watching; nothing is pinged or timed out until the next `start`. */
  stop(): void;
  /** Something came from the server. */
  received(): void;
  /** Something went to the server. */
  sent(): void;
}

/**
 * Watches both directions of one connection with a timer that checks a few times per interval.
 *
 * @example
 * ```ts
 * const keepAlive = watchKeepAlive(15_000, 30_000, ping, () => closeWith(new TimeoutError("...")));
 * ```
 */
export function watchKeepAlive(keepAliveIntervalMs: number, serverTimeoutMs: number, ping: () => void, timedOut: () => void): KeepAlive {
  let lastReceivedAt = 0;
  let lastSentAt = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const tick = () => {
    const now = Date.now();
    if (now - lastReceivedAt >= serverTimeoutMs) timedOut();
    else if (now - lastSentAt >= keepAliveIntervalMs) ping();
  };
  return {
    start() {
      lastReceivedAt = lastSentAt = Date.now();
      clearInterval(timer);
      timer = setInterval(tick, Math.max(10, Math.min(keepAliveIntervalMs, serverTimeoutMs) / 4));
    },
    stop: () => clearInterval(timer),
    received: () => void (lastReceivedAt = Date.now()),
    sent: () => void (lastSentAt = Date.now()),
  };
}
