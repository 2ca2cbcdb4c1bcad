/**
 * WebSockets and event streams relayed between nodes over Redis (the server's
 * `ConnectionRouting.relay`): a stateful connection's re-attach that reached another node than
 * the one holding the connection is carried to the holder, so that a load balancer without sticky
 * sessions can send it anywhere.
 *
 * - Open: the node the client reached (the entry) sends RelayOpen to the holder's server channel.
 *   The holder runs the request as its own (authentication, the re-attach rules: a WebSocket's
 *   handshake, an event stream's GET) and answers on the entry's server channel: accepted, with its
 *   end of the relay made and the status and headers that begin it (101; 200 for a stream), or the
 *   status, message and headers the client gets. The entry answers its client only then.
 * - Frames: RelayFrame both ways on the other node's server channel, numbered per direction from
 *   0. Redis keeps one publisher's messages on a channel in order; a repeat (ioredis resends what
 *   was in flight at a reconnect) is dropped, and a gap closes the relay with 1011 on both nodes:
 *   the client re-attaches and stateful reconnect replays what either side had not acknowledged,
 *   so a lost frame is never lost without a word.
 * - Flow: when the holder stops reading the connection, RelayFlow pauses the client's socket on
 *   the entry (and resumes it), so frames do not pile up on the holder.
 * - Close: RelayClose with the close code, either way. A relay also closes (1011) when the other
 *   node stops being alive, when this node loses its Redis subscriber (frames may have been
 *   missed), when a frame cannot be published, and when the server shuts down. A frame for a relay
 *   a node no longer has is answered with a RelayClose, so an end whose close never arrived ends
 *   at its next frame.
 *
 * Each node's end of a relay is a `RelayEnd` (`relay-end.ts`): the numbering, flow and closing of
 * one relay; this file keeps the relays and their opening.
 *
 * @module
 */
import type { Logger, RelayAnswer, RelayedRequest, RoutedEndpoint } from "@hubwire/server";
import { RoutingError } from "@hubwire/server";
import type { BackplaneStats } from "./backplane-metrics.js";
import type { BackplanePublisher } from "./backplane-publisher.js";
import type { HubChannels } from "./channels.js";
import { type Envelope, EnvelopeKind, type EnvelopeOf, encodeEnvelope } from "./envelope.js";
import { brokenRelay, RelayEnd, type RelayEndOwner } from "./relay-end.js";

/** What relays need of their manager. */
export interface ConnectionRelaysOptions {
  readonly serverId: string;
  readonly channels: HubChannels;
  readonly publisher: Pick<BackplanePublisher, "publish">;
  /** The other nodes alive now. */
  liveNodeIds(): readonly string[];
  newId(): string;
  readonly logger: Logger;
  /** Counts `relaysBroken`. */
  readonly stats: Pick<BackplaneStats, "relaysBroken">;
  /** How long opening a relay waits for the holder's answer. */
  readonly openTimeoutMs: number;
}

/** A relay envelope, as the router hands it over. */
export type RelayEnvelope = EnvelopeOf<
  | typeof EnvelopeKind.RelayOpen
  | typeof EnvelopeKind.RelayAnswer
  | typeof EnvelopeKind.RelayFrame
  | typeof EnvelopeKind.RelayFlow
  | typeof EnvelopeKind.RelayClose
>;

interface PendingOpen {
  readonly nodeId: string;
  readonly resolve: (answer: RelayAnswer) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * Both nodes' side of every relay: the entry's (`relay`) and the holder's (`receive` of a RelayOpen).
 *
 * @example
 * ```ts
 * const relays = new ConnectionRelays({ serverId, channels, publisher, liveNodeIds, newId, logger, stats, openTimeoutMs: 10_000 });
 * relays.serve(endpoint);
 * const answer = await relays.relay("node-2", { method: "GET", url: "/chat?id=token", headers, remoteAddress, transport: "websocket" });
 * router: onRelay: (envelope) => relays.receive(envelope)
 * ```
 */
export class ConnectionRelays implements RelayEndOwner {
  readonly #options: ConnectionRelaysOptions;
  #endpoint: RoutedEndpoint | undefined;
  readonly #opening = new Map<string, PendingOpen>();
  /** This node's end of every open relay, by relay id. */
  readonly #ends = new Map<string, RelayEnd>();

  constructor(options: ConnectionRelaysOptions) {
    this.#options = options;
  }

  serve(endpoint: RoutedEndpoint): void {
    this.#endpoint = endpoint;
  }

  /** Relays open on this node now (either end). */
  get size(): number {
    return this.#ends.size;
  }

  /** Relays a WebSocket or event stream request to the node holding its connection; resolves with the holder's answer. */
  relay(nodeId: string, request: RelayedRequest): Promise<RelayAnswer> {
    const relayId = this.#options.newId();
    const answer = new Promise<RelayAnswer>((resolve, reject) => {
      const timer = setTimeout(
        () => this.#failOpen(relayId, new RoutingError(503, `The node holding the connection did not answer within ${this.#options.openTimeoutMs} ms.`)),
        this.#options.openTimeoutMs,
      );
      this.#opening.set(relayId, { nodeId, resolve, reject, timer });
    });
    this.#options.publisher
      .publish(
        this.#options.channels.server(nodeId),
        encodeEnvelope({
          kind: EnvelopeKind.RelayOpen,
          relayId,
          serverId: this.#options.serverId,
          url: request.url,
          headers: request.headers,
          remoteAddress: request.remoteAddress ?? null,
          transport: request.transport,
        }),
      )
      .catch((error: unknown) => this.#failOpen(relayId, new RoutingError(503, "Redis could not take the relayed request.", { cause: error })));
    return answer;
  }

  /** A relay envelope addressed to this node. */
  receive(envelope: RelayEnvelope): void {
    switch (envelope.kind) {
      case EnvelopeKind.RelayOpen:
        return this.#open(envelope);
      case EnvelopeKind.RelayAnswer:
        return this.#answered(envelope);
      case EnvelopeKind.RelayFrame:
      case EnvelopeKind.RelayFlow: {
        const end = this.#ends.get(envelope.relayId);
        // A relay this node no longer has (it broke here without a word reaching the other node): the sender closes its end.
        if (end === undefined) return this.#closeUnknown(envelope.relayId, envelope.serverId);
        if (envelope.kind === EnvelopeKind.RelayFlow) return end.receiveFlow(envelope.paused);
        return end.receiveFrame(envelope.seq, envelope.data, envelope.isBinary);
      }
      case EnvelopeKind.RelayClose:
        return this.#ends.get(envelope.relayId)?.closedByPeer(envelope.code, envelope.reason);
    }
  }

  /** Closes the relays (and fails the opens) whose other node stopped being alive. */
  sweep(): void {
    const live = new Set(this.#options.liveNodeIds());
    for (const [relayId, pending] of this.#opening) {
      if (!live.has(pending.nodeId)) this.#failOpen(relayId, new RoutingError(404, "The node that held the connection is gone."));
    }
    for (const end of [...this.#ends.values()]) if (!live.has(end.peer)) end.fail("The other node of this relay is gone.", false);
  }

  /** This node lost its Redis subscriber: frames and answers may have been missed, so every relay ends now. */
  connectionLost(): void {
    for (const relayId of [...this.#opening.keys()])
      this.#failOpen(relayId, new RoutingError(503, "Redis went away before the node holding the connection answered."));
    for (const end of [...this.#ends.values()]) end.fail("This node lost Redis; frames may have been missed.", true);
  }

  close(): void {
    for (const relayId of [...this.#opening.keys()]) this.#failOpen(relayId, new RoutingError(503, "The server is shutting down."));
    for (const end of [...this.#ends.values()]) end.close(brokenRelay, "The server is shutting down.");
  }

  /** @internal For a relay end: publishes to its other node; a frame that cannot be published breaks the relay. */
  send(end: RelayEnd, envelope: Envelope): void {
    this.#options.publisher.publish(this.#options.channels.server(end.peer), encodeEnvelope(envelope), { quiet: true }).catch((error: unknown) => {
      if (envelope.kind === EnvelopeKind.RelayClose) {
        // Its next frame to this node, or its liveness, ends the other node's end.
        this.#options.logger.log("debug", "The close of a relay could not be published.", { relayId: end.relayId, error });
        return;
      }
      this.#options.logger.log("warn", "A relayed frame could not be published; the relay closes.", { relayId: end.relayId, error });
      end.fail("A frame could not be sent between nodes.", true);
    });
  }

  /** @internal A relay end broke (counted; the client re-attaches). */
  broke(): void {
    this.#options.stats.relaysBroken++;
  }

  /** @internal A relay end closed. */
  forget(end: RelayEnd): void {
    if (this.#ends.get(end.relayId) === end) this.#ends.delete(end.relayId);
  }

  /** @internal */
  get serverId(): string {
    return this.#options.serverId;
  }

  /** @internal */
  get logger(): Logger {
    return this.#options.logger;
  }

  /** The holder's side: the request runs here as if the client had reached this node. */
  #open(envelope: EnvelopeOf<typeof EnvelopeKind.RelayOpen>): void {
    const { relayId, serverId: entry } = envelope;
    let answered = false;
    /** Answers once; an acceptance makes this node's end first, so that its frames follow the answer. */
    const answer = (accepted: boolean, status: number, message: string, headers: Readonly<Record<string, string>>): RelayEnd | undefined => {
      if (answered) return undefined;
      answered = true;
      const end = accepted ? new RelayEnd(this, relayId, entry) : undefined;
      if (end !== undefined) this.#ends.set(relayId, end);
      const bytes = encodeEnvelope({ kind: EnvelopeKind.RelayAnswer, relayId, serverId: this.#options.serverId, accepted, status, message, headers });
      this.#options.publisher.publish(this.#options.channels.server(entry), bytes, { quiet: true }).catch((error: unknown) => {
        this.#options.logger.log("warn", "The answer to a relayed request could not be published.", { relayId, error });
        end?.fail("The relay's answer could not be sent.", false);
      });
      return end;
    };
    const endpoint = this.#endpoint;
    if (endpoint === undefined) return void answer(false, 404, "No Connection with that ID", {});
    const request = {
      method: "GET",
      url: envelope.url,
      headers: envelope.headers,
      remoteAddress: envelope.remoteAddress ?? undefined,
      transport: envelope.transport,
    };
    const failed = (error: unknown) => {
      this.#options.logger.log("error", "A relayed request failed on the node holding its connection.", { relayId, error });
      answer(false, 500, "Internal server error", {});
    };
    if (envelope.transport === "events") {
      try {
        endpoint.streamRelayed(request, {
          begin: (status, headers) => answer(true, status, "", headers) ?? new RelayEnd(this, relayId, entry),
          answer: (status, headers, body) => void answer(false, status, body, headers),
        });
      } catch (error) {
        failed(error);
      }
      return;
    }
    endpoint
      .openRelayed(request, {
        refuse: (status, message) => void answer(false, status, message, {}),
        accept: () => answer(true, 101, "", {}),
      })
      .catch(failed);
  }

  /** The entry's side: the holder's answer to an open. */
  #answered(envelope: EnvelopeOf<typeof EnvelopeKind.RelayAnswer>): void {
    const pending = this.#opening.get(envelope.relayId);
    if (pending === undefined) {
      // The entry gave up (its timeout, or Redis): a relay the holder made must not wait for frames.
      if (envelope.accepted) new RelayEnd(this, envelope.relayId, envelope.serverId).close(1006, "The relay's entry gave up before the holder answered.");
      return;
    }
    this.#opening.delete(envelope.relayId);
    clearTimeout(pending.timer);
    const { status, headers } = envelope;
    if (!envelope.accepted) return pending.resolve({ kind: "refused", status, message: envelope.message, headers });
    const end = new RelayEnd(this, envelope.relayId, envelope.serverId);
    this.#ends.set(envelope.relayId, end);
    pending.resolve({ kind: "accepted", holder: end, status, headers });
  }

  #closeUnknown(relayId: string, sender: string): void {
    const envelope = {
      kind: EnvelopeKind.RelayClose,
      relayId,
      serverId: this.#options.serverId,
      code: brokenRelay,
      reason: "No such relay on the other node.",
    } as const;
    void this.#options.publisher.publish(this.#options.channels.server(sender), encodeEnvelope(envelope), { quiet: true }).catch(() => undefined);
  }

  #failOpen(relayId: string, error: Error): void {
    const pending = this.#opening.get(relayId);
    if (pending === undefined) return;
    this.#opening.delete(relayId);
    clearTimeout(pending.timer);
    pending.reject(error);
  }
}
