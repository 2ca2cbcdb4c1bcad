/**
 * The parts of Bun's server API the adapter uses, declared here so that the package needs neither
 * `bun-types` nor Bun to type-check: `Bun.serve`'s server (`upgrade`, `requestIP`) and its
 * `ServerWebSocket`.
 *
 * @module
 */

/** What a WebSocket carries from its upgrade to its open. */
export interface BunSocketData {
  /** The largest message the endpoint accepts. */
  readonly maxMessageBytes: number;
  /** Hands the open socket to the handshake that is waiting for it. */
  readonly opened: (socket: BunServerWebSocket) => void;
  /** Set at open: the adapter's side of the socket. */
  owner?: { message(data: string | Uint8Array): void; closed(code: number, reason: string): void; drained(): void };
}

/** Bun's `ServerWebSocket`, as far as the adapter uses it. */
export interface BunServerWebSocket {
  readonly data: BunSocketData;
  readonly readyState: number;
  sendText(data: string, compress?: boolean): number;
  sendBinary(data: Uint8Array, compress?: boolean): number;
  close(code?: number, reason?: string): void;
  terminate(): void;
  getBufferedAmount(): number;
}

/** Bun's `Server`, as far as the adapter uses it. */
export interface BunServerLike {
  upgrade(request: Request, options: { data: BunSocketData; headers?: Record<string, string> }): boolean;
  requestIP(request: Request): { address: string } | null;
}
