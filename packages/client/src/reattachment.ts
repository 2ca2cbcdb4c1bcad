/**
 * Stateful reconnect's re-attach: after the transport drops, connect it again to the same
 * connection and replay (`message-buffer.ts`), invisible to the app. An attempt the network cuts
 * short (the new link drops before the replay went out) is tried again a few times; one the server
 * refuses (404: the reconnect window has passed) ends the connection. A drop while an attempt is
 * under way is taken up once it has succeeded. A server that never sends its Sequence after a
 * re-attach (ASP.NET Core resumes WebSockets only) ends the connection after the server timeout,
 * allowing a reconnect, rather than have everything it sends dropped while waiting.
 *
 * Part of the `@hubwire/client/stateful-reconnect` entry point: apps without stateful reconnect
 * never load it.
 *
 * @module
 */
import type { HubMessage } from "@hubwire/protocol";
import * as ProtocolDefaults from "@hubwire/protocol/defaults";
import { TimeoutError, TransportError } from "./errors.js";
import { type Logger, silentLogger } from "./logger.js";

/** What stateful reconnect needs of its connection. */
export interface ResumeContext {
  /** The connection's protocol, which encodes messages. */
  readonly protocol: { write(message: HubMessage): string | Uint8Array };
  /** Sends over the current transport. */
  send(data: string | Uint8Array): Promise<void>;
  /** The connection below, whose transport is dropped (`abandon`) when a send on it fails, and stopped when the connection stops during a re-attach. */
  readonly connection: { readonly transport: { abandon?(error: Error): void; stop(): Promise<void> } | undefined };
  /** A re-attach is about to connect: what the new link brings is parsed afresh, and the server timeout starts over. */
  reset(): void;
  /** Whether the connection may still be resumed: not stopped, not closed by the server. */
  live(): boolean;
  /** The server is lost (it did not resume the connection): end it, allowing a reconnect. */
  lost(error: Error): void;
  /** The connection's options: its server timeout and logger. */
  readonly options: { readonly serverTimeoutMs?: number; readonly logger?: Logger };
}

/** Drops the connection's transport without telling the server, so that it is re-attached. */
export function abandon(context: ResumeContext, error: unknown): void {
  context.connection.transport?.abandon?.(error instanceof Error ? error : new Error(String(error)));
}

/** What the re-attach needs of the replay buffer. */
interface Replay {
  disconnected(): void;
  resend(): Promise<void>;
  readonly awaitingSequence: boolean;
}

/**
 * How long to wait before each further attempt at a re-attach that the network cut short (the
 * first goes at once): about two seconds in all, well inside a server's reconnect window.
 */
const RETRY_DELAYS_MS = [50, 250, 750, 1_000];

/** The statuses with which a server refuses a re-attach for good. */
const REFUSALS = new Set([400, 401, 403, 404]);

/**
 * Re-attaches one connection's dropped transport.
 *
 * @example
 * ```ts
 * const reattachment = new Reattachment(buffer, context);
 * connection.resume = (error, connect, end) => reattachment.dropped(error, connect, end);
 * ```
 */
export class Reattachment {
  readonly #replay: Replay;
  readonly #context: ResumeContext;
  #underWay = false;
  /** Why the transport dropped again during an attempt that then succeeded. */
  #droppedAgain: Error | undefined;
  /** Counts re-attaches, so that the check on an earlier one does not judge a later one. */
  #round = 0;

  constructor(replay: Replay, context: ResumeContext) {
    this.#replay = replay;
    this.#context = context;
  }

  get #logger(): Logger {
    return this.#context.options.logger ?? silentLogger;
  }

  /** The transport dropped: true if it is being re-attached, false if the drop should end the connection. */
  dropped(error: Error | undefined, connect: () => Promise<void>, end: (error: Error | undefined) => void): boolean {
    if (this.#underWay) {
      this.#droppedAgain = error ?? new Error("The transport closed while it was being re-attached.");
      return true;
    }
    if (!this.#context.live()) return false;
    void this.#reattach(error, connect, end);
    return true;
  }

  async #reattach(error: Error | undefined, connect: () => Promise<void>, end: (error: Error | undefined) => void): Promise<void> {
    this.#underWay = true;
    const resumed = await this.#attempts(connect);
    this.#underWay = false;
    const droppedAgain = this.#droppedAgain;
    this.#droppedAgain = undefined;
    if (!resumed) return end(error);
    if (droppedAgain !== undefined && !this.dropped(droppedAgain, connect, end)) end(droppedAgain);
  }

  async #attempts(connect: () => Promise<void>): Promise<boolean> {
    const context = this.#context;
    for (let attempt = 0; context.live(); attempt++) {
      // A new round: the Sequence check of an earlier re-attach no longer applies.
      this.#round++;
      this.#replay.disconnected();
      // A drop before this attempt was of an earlier attempt's link.
      this.#droppedAgain = undefined;
      let connected = false;
      try {
        context.reset();
        await connect();
        connected = true;
        if (context.live()) await this.#replay.resend();
        if (!context.live()) {
          // Stopped while this attempt was under way: the new link ends too.
          await context.connection.transport?.stop();
          return false;
        }
        this.#watch();
        return true;
      } catch (reattachError) {
        // The replay failed on the new link: end that link (its drop is this attempt's, and a
        // link left up here would outlive the connection).
        if (connected) abandon(context, reattachError);
        // Only the re-attach itself can be refused (the connection is gone, or not this user's); a
        // replay fails when the new link drops too, and a conflict or a busy proxy may pass.
        const refused = !connected && reattachError instanceof TransportError && REFUSALS.has(reattachError.status ?? 0);
        if (refused || attempt >= RETRY_DELAYS_MS.length) {
          this.#logger.warn("Stateful reconnect failed.", reattachError);
          return false;
        }
        this.#logger.debug("A stateful re-attach was cut short; trying again.", reattachError);
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[attempt]));
      }
    }
    return false;
  }

  /** Ends the connection if the server's Sequence has not come within the server timeout. */
  #watch(): void {
    const round = ++this.#round;
    const timer = setTimeout(() => {
      if (round !== this.#round || !this.#replay.awaitingSequence || !this.#context.live()) return;
      this.#logger.warn("The server did not resume the re-attached transport: it sent no Sequence within the server timeout.");
      this.#context.lost(new TimeoutError("The server did not resume the connection within the server timeout."));
    }, this.#context.options.serverTimeoutMs ?? ProtocolDefaults.serverTimeoutMs);
    (timer as { unref?: () => void }).unref?.();
  }
}
