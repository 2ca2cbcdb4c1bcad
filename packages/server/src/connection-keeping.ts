/**
 * Keeping a stateful connection outside its node, so that when the node dies (a crash, SIGKILL)
 * the client's re-attach on another node resumes it: the same connection id, its user and groups,
 * every message once and in order, and no `onreconnecting`. A backplane (`@hubwire/redis` with
 * durable delivery and `keepConnections`) implements {@link ConnectionKeeping}; a connection
 * uses it as follows:
 *
 * - Every trackable message it sends (types 1 to 5) is stored with its sequence id before it is
 *   written: the client never holds a number the next node does not know of.
 * - The client's progress (the last of its messages received) is stored before the messages are
 *   dispatched, with the calls they open; a call is closed by the Completion that answers it. So a
 *   call in flight when the node died ran at most once, and the node that resumes it answers it
 *   with an error that says so (see `ErrorTexts.callLostWithNode`).
 * - Acknowledged messages are dropped from the store; the store ends with the connection.
 *
 * A store that fails ends the connection with a Close that lets the client reconnect: a connection
 * that could no longer be resumed as it is must not go on as if it could.
 *
 * @module
 */
import type { TransportName } from "@hubwire/protocol";

/** What is kept of a connection when it opens. */
export interface KeptIdentity {
  readonly connectionId: string;
  readonly connectionToken: string;
  readonly userId: string | undefined;
  /** The hub protocol's name (`json`, `messagepack`). */
  readonly protocol: string;
  readonly transport: TransportName;
  /** How long its client may take to re-attach (the hub's `statefulReconnectWindowMs`): what is kept expires after that. */
  readonly reconnectWindowMs: number;
}

/** One unacknowledged message, as its bytes were written. */
export interface KeptMessage {
  readonly sequenceId: number;
  readonly bytes: Uint8Array;
}

/** A kept connection, as the node that takes it over reads it. */
export interface KeptConnection extends Omit<KeptIdentity, "connectionToken"> {
  /** The last of the client's messages received (dispatched, or failed with its node). */
  readonly receivedThrough: number;
  /** The messages the client has not acknowledged, in order. */
  readonly messages: readonly KeptMessage[];
  /** The last sequence id given (the next message gets one more). */
  readonly lastSequenceId: number;
  /** Calls the client made that were not answered when the node holding them died. */
  readonly openInvocations: readonly string[];
  readonly groups: readonly string[];
}

/** One connection's store: every method is called by the connection in the order of events. */
export interface ConnectionKeeper {
  /** A trackable message numbered `sequenceId` (a Completion answering `answers`); resolves once stored. */
  sent(sequenceId: number, bytes: Uint8Array, answers: string | undefined): Promise<void>;
  /** The client's messages through `sequenceId` were received, opening and closing these calls; resolves once stored. */
  received(sequenceId: number, opened: readonly string[], closed: readonly string[]): Promise<void>;
  /** The client acknowledged every message through `sequenceId`. */
  acknowledged(sequenceId: number): void;
  /** The connection ended: nothing is to be resumed. */
  ended(): void;
}

/** A kept connection that this node now holds. */
export interface TakenOver {
  readonly connection: KeptConnection;
  /** Its store, held by this node from now on. */
  readonly keeper: ConnectionKeeper;
}

/**
 * What a backplane offers to keep stateful connections (through `ConnectionRouting.keeping`).
 *
 * @example
 * ```ts
 * const keeper = keeping.keep({ connectionId, connectionToken, userId, protocol: "json", transport: TransportName.WebSockets });
 * await keeper.sent(1, bytes, undefined); // now write it
 * // On another node, after the first one died:
 * const taken = await keeping.takeOver(connectionToken); // { connection, keeper }, or undefined
 * ```
 */
export interface ConnectionKeeping {
  /** Starts keeping a connection that opened with stateful reconnect. */
  keep(identity: KeptIdentity): ConnectionKeeper;
  /**
   * Takes over the kept connection of `token` from a node that is gone, once that node's lease has
   * run out (a node that is alive answers for its connections itself). Undefined when nothing is
   * kept under `token`; rejects when it cannot be read or taken (the caller answers 503).
   */
  takeOver(token: string): Promise<TakenOver | undefined>;
}
