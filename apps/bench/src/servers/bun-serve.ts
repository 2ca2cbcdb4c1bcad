/**
 * `Bun.serve` for the bench's servers run by Bun, declared by the part they use so that the bench
 * needs no bun-types (as packages/server's Bun test helper does). Only a process started by the
 * bun binary may call it.
 */
import type { BunServerLike } from "@hubwire/server/bun";

/** The server `Bun.serve` passes to `fetch`: what Hubwire's adapter uses, and what socket.io's engine is handed whole. */
export type BunServer = BunServerLike;

export interface BunServeOptions {
  readonly port: number;
  readonly hostname: string;
  fetch(request: Request, server: BunServer): Response | undefined | Promise<Response | undefined>;
  readonly websocket: object;
}

export interface BunListener {
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}

declare const Bun: { serve(options: BunServeOptions): BunListener };

export const serveOnBun = (options: BunServeOptions): BunListener => Bun.serve(options);
