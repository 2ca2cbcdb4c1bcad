/**
 * Inbound routing: every message the subscriber receives is read as an envelope and handed to
 * what handles its kind. Invocations are delivered once per message id, however often they
 * arrive (a publish that ioredis resends after a reconnect, or a message that reaches this node
 * through two channels); acknowledgements and client results settle the request table's entries.
 * What this node sent itself is ignored; what is not an envelope is dropped, counted and logged.
 *
 * @module
 */
import { ClientResultError, type Logger } from "@hubwire/server";
import type { BackplaneStats } from "./backplane-metrics.js";
import { decodeEnvelope, EnvelopeKind, type EnvelopeOf } from "./envelope.js";
import type { PendingRequests } from "./pending-requests.js";

/** How many message ids a node remembers to drop repeats (a resend comes within seconds). */
const defaultSeenLimit = 10_000;

export interface BackplaneRouterOptions {
  /** This node: what it sent itself is not routed back to it. */
  readonly serverId: string;
  /** Settled by Ack and ResultResponse envelopes. */
  readonly requests: PendingRequests;
  /** Counts `received`, `duplicatesDropped` and `malformedDropped`. */
  readonly stats: BackplaneStats;
  readonly logger: Logger;
  /** Another node's heartbeat, with the number of its last presence delta and the protocols its connections speak (undefined: not said). */
  onHeartbeat(serverId: string, presenceSeq: number, protocols: readonly string[] | undefined): void;
  /** Another node's presence changes. */
  onPresenceDelta(envelope: EnvelopeOf<typeof EnvelopeKind.PresenceDelta>): void;
  /** A node asks for this node's whole presence. */
  onPresenceSyncRequest(envelope: EnvelopeOf<typeof EnvelopeKind.PresenceSyncRequest>): void;
  /** A node's whole presence, as this one asked. */
  onPresenceSnapshot(envelope: EnvelopeOf<typeof EnvelopeKind.PresenceSnapshot>): void;
  /** A node asks who holds a connection token. */
  onLocateRequest(envelope: EnvelopeOf<typeof EnvelopeKind.LocateRequest>): void;
  /** A node answers this one's locate. */
  onLocateAnswer(envelope: EnvelopeOf<typeof EnvelopeKind.LocateAnswer>): void;
  /** A request forwarded to this node (the first time its id arrives). */
  onForwardRequest(envelope: EnvelopeOf<typeof EnvelopeKind.ForwardRequest>): void;
  /** The answer to a request this node forwarded. */
  onForwardResponse(envelope: EnvelopeOf<typeof EnvelopeKind.ForwardResponse>): void;
  /** The client of a request forwarded here went away. */
  onForwardCancel(envelope: EnvelopeOf<typeof EnvelopeKind.ForwardCancel>): void;
  /** A WebSocket relay's envelope: an open (the first time its id arrives), an answer, a frame, flow or a close. */
  onRelay(
    envelope: EnvelopeOf<
      | typeof EnvelopeKind.RelayOpen
      | typeof EnvelopeKind.RelayAnswer
      | typeof EnvelopeKind.RelayFrame
      | typeof EnvelopeKind.RelayFlow
      | typeof EnvelopeKind.RelayClose
    >,
  ): void;
  /** An invocation from another node, the first time its id arrives. */
  onInvocation(envelope: EnvelopeOf<typeof EnvelopeKind.Invocation>): void;
  /** Another node asks to add or remove a connection to or from a group. */
  onGroupCommand(envelope: EnvelopeOf<typeof EnvelopeKind.GroupCommand>): void;
  /** A node asks for a client result. */
  onResultRequest(envelope: EnvelopeOf<typeof EnvelopeKind.ResultRequest>): void;
  /** A node asks every node for its inspection answer. */
  onInspectRequest(envelope: EnvelopeOf<typeof EnvelopeKind.InspectRequest>): void;
  /** A node answers this one's inspection. */
  onInspectResponse(envelope: EnvelopeOf<typeof EnvelopeKind.InspectResponse>): void;
  /** A node asks to end a connection. */
  onDisconnectCommand(envelope: EnvelopeOf<typeof EnvelopeKind.DisconnectCommand>): void;
  /** Message ids remembered; default 10,000. */
  readonly seenLimit?: number;
}

/**
 * @example
 * ```ts
 * const router = new BackplaneRouter({ serverId, requests, stats, logger, onHeartbeat, onInvocation, onGroupCommand, onResultRequest, ...inspection });
 * connections.onMessage((message) => router.route(message));
 * ```
 */
export class BackplaneRouter {
  readonly #options: BackplaneRouterOptions;
  /** Message ids delivered recently. */
  readonly #seen = new Set<string>();
  /**
   * The same ids in a ring, oldest at `#oldest`: the one to forget when a new id comes. (Taking
   * the Set's first value instead walks past every id deleted before it, until the Set compacts:
   * thousands of steps per message once it is full.)
   */
  readonly #ring: Array<string | undefined>;
  #oldest = 0;

  constructor(options: BackplaneRouterOptions) {
    this.#options = options;
    this.#ring = new Array<string | undefined>(Math.max(1, options.seenLimit ?? defaultSeenLimit)).fill(undefined);
  }

  /** Reads one received message and hands it on; bytes that are not an envelope are dropped, not thrown. */
  route(bytes: Uint8Array): void {
    const { serverId, requests, stats, logger } = this.#options;
    const envelope = decodeEnvelope(bytes);
    if (envelope === undefined) {
      stats.malformedDropped++;
      logger.log("warn", "Dropped a backplane message that is not an envelope.", {});
      return;
    }
    stats.received++;
    switch (envelope.kind) {
      case EnvelopeKind.Heartbeat:
        if (envelope.serverId !== serverId) this.#options.onHeartbeat(envelope.serverId, envelope.presenceSeq, envelope.protocols);
        return;
      case EnvelopeKind.PresenceDelta:
        if (envelope.serverId !== serverId) this.#options.onPresenceDelta(envelope);
        return;
      case EnvelopeKind.PresenceSyncRequest:
        if (envelope.serverId !== serverId) this.#options.onPresenceSyncRequest(envelope);
        return;
      case EnvelopeKind.PresenceSnapshot:
        if (envelope.serverId !== serverId) this.#options.onPresenceSnapshot(envelope);
        return;
      case EnvelopeKind.LocateRequest:
        if (envelope.serverId !== serverId) this.#options.onLocateRequest(envelope);
        return;
      case EnvelopeKind.LocateAnswer:
        return this.#options.onLocateAnswer(envelope);
      case EnvelopeKind.ForwardRequest:
        // A forward is run once, however often it arrives (a resend, or a replay).
        if (this.#isRepeat(`forward:${envelope.requestId}`)) return;
        return this.#options.onForwardRequest(envelope);
      case EnvelopeKind.ForwardResponse:
        return this.#options.onForwardResponse(envelope);
      case EnvelopeKind.ForwardCancel:
        return this.#options.onForwardCancel(envelope);
      case EnvelopeKind.RelayOpen:
        // Opened once, however often it arrives; frames carry their own numbers.
        if (this.#isRepeat(`relay:${envelope.relayId}`)) return;
        return this.#options.onRelay(envelope);
      case EnvelopeKind.RelayAnswer:
      case EnvelopeKind.RelayFrame:
      case EnvelopeKind.RelayFlow:
      case EnvelopeKind.RelayClose:
        return this.#options.onRelay(envelope);
      case EnvelopeKind.Invocation:
        // Already delivered locally by its sender; or seen before (a resend, or a second channel).
        if (envelope.serverId === serverId || this.#isRepeat(envelope.messageId)) return;
        return this.#options.onInvocation(envelope);
      case EnvelopeKind.GroupCommand:
        if (envelope.serverId !== serverId) this.#options.onGroupCommand(envelope);
        return;
      case EnvelopeKind.Ack:
        requests.resolve(envelope.requestId, undefined);
        return;
      case EnvelopeKind.ResultRequest:
        return this.#options.onResultRequest(envelope);
      case EnvelopeKind.ResultResponse:
        if (envelope.error === null) requests.resolve(envelope.requestId, envelope.result);
        else requests.reject(envelope.requestId, new ClientResultError(envelope.error));
        return;
      case EnvelopeKind.InspectRequest:
        if (envelope.serverId !== serverId) this.#options.onInspectRequest(envelope);
        return;
      case EnvelopeKind.InspectResponse:
        return this.#options.onInspectResponse(envelope);
      case EnvelopeKind.DisconnectCommand:
        return this.#options.onDisconnectCommand(envelope);
    }
  }

  /**
   * Reads one entry of a durable-delivery stream: only invocations travel there, so anything else
   * is dropped as malformed (a request forwarded or a command is never taken from a stream).
   */
  routeInvocation(bytes: Uint8Array): void {
    const { serverId, stats, logger } = this.#options;
    const envelope = decodeEnvelope(bytes);
    if (envelope?.kind !== EnvelopeKind.Invocation) {
      stats.malformedDropped++;
      logger.log("warn", "Dropped a stream entry that is not an invocation envelope.", { kind: envelope?.kind ?? null });
      return;
    }
    stats.received++;
    if (envelope.serverId === serverId || this.#isRepeat(envelope.messageId)) return;
    this.#options.onInvocation(envelope);
  }

  /** Whether `messageId` was seen before (counted as a duplicate); remembers it if not. */
  #isRepeat(messageId: string): boolean {
    if (this.#seen.has(messageId)) {
      this.#options.stats.duplicatesDropped++;
      return true;
    }
    this.#seen.add(messageId);
    const forgotten = this.#ring[this.#oldest];
    if (forgotten !== undefined) this.#seen.delete(forgotten);
    this.#ring[this.#oldest] = messageId;
    this.#oldest = (this.#oldest + 1) % this.#ring.length;
    return false;
  }
}
