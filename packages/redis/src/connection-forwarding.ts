/**
 * Routing over Redis (the server's `ConnectionRouting`): any node serves any request of a
 * connection, so no load balancer needs sticky sessions.
 *
 * - Locate: a node asks every node (on the hub's `all` channel) which holds a token. Every live
 *   node answers on the asker's server channel: not here, here (forward to me), or, for a claim,
 *   released (the connection was only negotiated here and is the asker's now). A node answers one
 *   question at a time, so of two claims exactly one wins; the other is told where it went.
 * - Forward: the request, its body read (bounded by the endpoint), goes to the holder's server
 *   channel; the holder runs it as if it had arrived there and sends the answer back. A request
 *   id is handled once (a replayed forward is dropped), and the client going away cancels it.
 * - Bounds: a locate waits at most `locateTimeoutMs` and ends early once every live node has
 *   answered; a forward waits at most `forwardTimeoutMs`, and fails at once with 404 when its
 *   holder stops being alive (liveness, three heartbeat intervals), with 503 when Redis cannot
 *   take it.
 * - Relay: a WebSocket that re-attaches a connection another node holds is relayed there
 *   (`connection-relays.ts`); forwarding's liveness, outage and shutdown end relays too.
 *
 * @module
 */
import {
  type ConnectionKeeping,
  type ConnectionRouting,
  type ForwardedRequest,
  type ForwardedResponse,
  type Located,
  type Logger,
  type RelayAnswer,
  type RelayedRequest,
  type RoutedEndpoint,
  RoutingError,
} from "@hubwire/server";
import type { BackplanePublisher } from "./backplane-publisher.js";
import type { HubChannels } from "./channels.js";
import type { ConnectionRelays } from "./connection-relays.js";
import { EnvelopeKind, type EnvelopeOf, encodeEnvelope } from "./envelope.js";

/** What forwarding needs of its manager. */
export interface ConnectionForwardingOptions {
  readonly serverId: string;
  readonly channels: HubChannels;
  readonly publisher: BackplanePublisher;
  /** The other nodes alive now. */
  liveNodeIds(): readonly string[];
  newId(): string;
  readonly logger: Logger;
  /** How long a locate waits for the nodes that have not answered. */
  readonly locateTimeoutMs: number;
  /** Whether this node started so recently that it may not have heard every node yet: then it asks even when it knows of none. */
  isNewcomer(): boolean;
  /** How long a forwarded request may take (a long poll waits for messages up to its own timeout). */
  readonly forwardTimeoutMs: number;
  /** How often forwards to nodes that stopped being alive are failed. */
  readonly sweepIntervalMs: number;
  /** The WebSockets relayed to and from this node. */
  readonly relays: ConnectionRelays;
  /** Where stateful connections are kept for another node to take over (`keepConnections`); none: they die with their node. */
  readonly keeping?: ConnectionKeeping | undefined;
}

interface PendingLocate {
  readonly awaiting: Set<string>;
  readonly resolve: (located: Located) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

interface PendingForward {
  readonly nodeId: string;
  readonly resolve: (response: ForwardedResponse) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Holders remembered per token, so that the polls and POSTs of one connection are not located each time. */
const rememberedHolders = 10_000;

/**
 * @example
 * ```ts
 * const forwarding = new ConnectionForwarding({ serverId, channels, publisher, liveNodeIds, newId, logger, locateTimeoutMs: 2_000, forwardTimeoutMs: 130_000, sweepIntervalMs: 2_000 });
 * manager.routing === forwarding; // the hub endpoint calls serve(), locate() and forward()
 * router: onLocateRequest: (envelope) => forwarding.answerLocate(envelope)
 * ```
 */
export class ConnectionForwarding implements ConnectionRouting {
  readonly keeping: ConnectionKeeping | undefined;
  readonly #options: ConnectionForwardingOptions;
  #endpoint: RoutedEndpoint | undefined;
  readonly #locates = new Map<string, PendingLocate>();
  readonly #forwards = new Map<string, PendingForward>();
  /** Forwards being run here, by request id, to cancel them. */
  readonly #running = new Map<string, AbortController>();
  readonly #holders = new Map<string, string>();
  /** Tokens this node released, and to whom: a claim that lost the race learns where the connection went. */
  readonly #released = new Map<string, { readonly to: string; readonly at: number }>();
  readonly #sweep: ReturnType<typeof setInterval>;

  constructor(options: ConnectionForwardingOptions) {
    this.keeping = options.keeping;
    this.#options = options;
    this.#sweep = setInterval(() => this.sweep(), options.sweepIntervalMs);
    this.#sweep.unref?.();
  }

  serve(endpoint: RoutedEndpoint): void {
    this.#endpoint = endpoint;
    this.#options.relays.serve(endpoint);
  }

  /** The WebSockets relayed to and from this node (the router hands them their envelopes). */
  get relays(): ConnectionRelays {
    return this.#options.relays;
  }

  relay(nodeId: string, request: RelayedRequest): Promise<RelayAnswer> {
    return this.#options.relays.relay(nodeId, request);
  }

  // Asking.

  async locate(token: string, claim: boolean): Promise<Located> {
    const live = this.#options.liveNodeIds();
    const remembered = this.#holders.get(token);
    if (remembered !== undefined && live.includes(remembered)) return { kind: "elsewhere", nodeId: remembered };
    if (live.length === 0 && !this.#options.isNewcomer()) return { kind: "unknown" };
    const requestId = this.#options.newId();
    const located = new Promise<Located>((resolve, reject) => {
      const timer = setTimeout(() => this.#settleLocate(requestId, { kind: "unknown" }), this.#options.locateTimeoutMs);
      this.#locates.set(requestId, { awaiting: new Set(live), resolve, reject, timer });
    });
    try {
      await this.#options.publisher.publish(
        this.#options.channels.all,
        encodeEnvelope({ kind: EnvelopeKind.LocateRequest, requestId, serverId: this.#options.serverId, token, claim }),
      );
    } catch (error) {
      this.#settleLocate(requestId, { kind: "unknown" });
      throw error;
    }
    const answer = await located;
    if (answer.kind === "elsewhere") this.#remember(token, answer.nodeId);
    return answer;
  }

  forward(nodeId: string, request: ForwardedRequest, signal: AbortSignal): Promise<ForwardedResponse> {
    const requestId = this.#options.newId();
    const answer = new Promise<ForwardedResponse>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          this.#failForward(requestId, new RoutingError(503, `The node holding the connection did not answer within ${this.#options.forwardTimeoutMs} ms.`)),
        this.#options.forwardTimeoutMs,
      );
      this.#forwards.set(requestId, { nodeId, resolve, reject, timer });
    });
    const onAbort = () => {
      this.#failForward(requestId, new RoutingError(503, "The client went away."));
      void this.#options.publisher
        .publish(this.#options.channels.server(nodeId), encodeEnvelope({ kind: EnvelopeKind.ForwardCancel, requestId, serverId: this.#options.serverId }), {
          quiet: true,
        })
        .catch(() => undefined);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    this.#options.publisher
      .publish(
        this.#options.channels.server(nodeId),
        encodeEnvelope({
          kind: EnvelopeKind.ForwardRequest,
          requestId,
          serverId: this.#options.serverId,
          method: request.method,
          url: request.url,
          headers: request.headers,
          remoteAddress: request.remoteAddress ?? null,
          body: request.body,
        }),
      )
      .catch((error: unknown) => this.#failForward(requestId, new RoutingError(503, "Redis could not take the forwarded request.", { cause: error })));
    return answer.finally(() => signal.removeEventListener("abort", onAbort));
  }

  // Answering.

  /** Another node asks who holds a token: every node answers, so the asker need not wait out its timeout. */
  answerLocate(envelope: EnvelopeOf<typeof EnvelopeKind.LocateRequest>): void {
    const endpoint = this.#endpoint;
    const held = endpoint?.find(envelope.token);
    const self = this.#options.serverId;
    const movedTo = this.#released.get(envelope.token)?.to;
    let answer: EnvelopeOf<typeof EnvelopeKind.LocateAnswer> = {
      kind: EnvelopeKind.LocateAnswer,
      requestId: envelope.requestId,
      serverId: self,
      held: held !== undefined ? "elsewhere" : movedTo !== undefined && movedTo !== envelope.serverId ? "elsewhere" : "none",
      holder: held !== undefined ? self : (movedTo ?? null),
      connectionId: null,
      statefulReconnect: false,
    };
    if (held === "negotiated" && envelope.claim) {
      const released = endpoint!.release(envelope.token);
      if (released !== undefined) {
        this.#released.set(envelope.token, { to: envelope.serverId, at: Date.now() });
        answer = { ...answer, held: "claimed", holder: null, connectionId: released.connectionId, statefulReconnect: released.statefulReconnect };
      } else if (endpoint!.find(envelope.token) === undefined) answer = { ...answer, held: "none", holder: null };
    }
    this.#reply(envelope.serverId, answer);
  }

  receiveLocateAnswer(envelope: EnvelopeOf<typeof EnvelopeKind.LocateAnswer>): void {
    const pending = this.#locates.get(envelope.requestId);
    if (pending === undefined) {
      // Too late: a connection released to this node after its asker gave up is lost; say so.
      if (envelope.held === "claimed") this.#options.logger.log("warn", "A connection was released to this node after its locate had ended.", {});
      return;
    }
    if (envelope.held === "claimed") {
      return this.#settleLocate(envelope.requestId, {
        kind: "claimed",
        connectionId: envelope.connectionId ?? "",
        statefulReconnect: envelope.statefulReconnect,
      });
    }
    if (envelope.held === "elsewhere") return this.#settleLocate(envelope.requestId, { kind: "elsewhere", nodeId: envelope.holder ?? envelope.serverId });
    pending.awaiting.delete(envelope.serverId);
    if (pending.awaiting.size === 0) this.#settleLocate(envelope.requestId, { kind: "unknown" });
  }

  /** A forwarded request for a connection this node holds: run it here, answer the forwarding node. */
  runForward(envelope: EnvelopeOf<typeof EnvelopeKind.ForwardRequest>): void {
    const endpoint = this.#endpoint;
    const cancel = new AbortController();
    this.#running.set(envelope.requestId, cancel);
    const request: ForwardedRequest = {
      method: envelope.method,
      url: envelope.url,
      headers: envelope.headers,
      remoteAddress: envelope.remoteAddress ?? undefined,
      body: envelope.body,
    };
    const answered =
      endpoint === undefined
        ? Promise.resolve<ForwardedResponse>({ status: 404, headers: {}, body: Buffer.from("No Connection with that ID") })
        : endpoint.handle(request, cancel.signal);
    answered
      .then((response) => {
        if (cancel.signal.aborted) return;
        this.#reply(envelope.serverId, { kind: EnvelopeKind.ForwardResponse, requestId: envelope.requestId, ...response });
      })
      .catch((error: unknown) => this.#options.logger.log("error", "A forwarded request failed on the node holding its connection.", { error }))
      .finally(() => this.#running.delete(envelope.requestId));
  }

  receiveForwardResponse(envelope: EnvelopeOf<typeof EnvelopeKind.ForwardResponse>): void {
    const pending = this.#forwards.get(envelope.requestId);
    if (pending === undefined) return;
    this.#forwards.delete(envelope.requestId);
    clearTimeout(pending.timer);
    pending.resolve({ status: envelope.status, headers: envelope.headers, body: envelope.body });
  }

  cancelForward(envelope: EnvelopeOf<typeof EnvelopeKind.ForwardCancel>): void {
    this.#running.get(envelope.requestId)?.abort();
  }

  /** Fails the forwards to nodes that stopped being alive (404: their connections are gone), and forgets them as holders. */
  sweep(): void {
    const live = new Set(this.#options.liveNodeIds());
    for (const [requestId, pending] of this.#forwards) {
      if (!live.has(pending.nodeId)) this.#failForward(requestId, new RoutingError(404, "The node that held the connection is gone."));
    }
    for (const [token, nodeId] of this.#holders) if (!live.has(nodeId)) this.#holders.delete(token);
    this.#options.relays.sweep();
    // A release is remembered long enough for a claim that raced it (a locate's few seconds).
    const forgetBefore = Date.now() - 10 * this.#options.locateTimeoutMs;
    for (const [token, released] of this.#released) if (released.at < forgetBefore || !live.has(released.to)) this.#released.delete(token);
  }

  /** This node lost its Redis subscriber: no answer can arrive, so what waits for one fails now (503), not at its deadline. */
  connectionLost(): void {
    for (const [requestId, pending] of [...this.#locates]) {
      this.#locates.delete(requestId);
      clearTimeout(pending.timer);
      pending.reject(new RoutingError(503, "Redis went away before the other nodes answered."));
    }
    for (const requestId of [...this.#forwards.keys()]) {
      this.#failForward(requestId, new RoutingError(503, "Redis went away before the node holding the connection answered."));
    }
    this.#options.relays.connectionLost();
  }

  close(): void {
    clearInterval(this.#sweep);
    for (const requestId of [...this.#locates.keys()]) this.#settleLocate(requestId, { kind: "unknown" });
    for (const requestId of [...this.#forwards.keys()]) this.#failForward(requestId, new RoutingError(503, "The server is shutting down."));
    for (const cancel of this.#running.values()) cancel.abort();
    this.#options.relays.close();
  }

  #settleLocate(requestId: string, located: Located): void {
    const pending = this.#locates.get(requestId);
    if (pending === undefined) return;
    this.#locates.delete(requestId);
    clearTimeout(pending.timer);
    pending.resolve(located);
  }

  #failForward(requestId: string, error: Error): void {
    const pending = this.#forwards.get(requestId);
    if (pending === undefined) return;
    this.#forwards.delete(requestId);
    clearTimeout(pending.timer);
    // A holder that answers 404 from now on need not be remembered.
    pending.reject(error);
  }

  #remember(token: string, nodeId: string): void {
    this.#holders.delete(token);
    this.#holders.set(token, nodeId);
    if (this.#holders.size > rememberedHolders) this.#holders.delete(this.#holders.keys().next().value!);
  }

  #reply(serverId: string, envelope: EnvelopeOf<typeof EnvelopeKind.LocateAnswer> | EnvelopeOf<typeof EnvelopeKind.ForwardResponse>): void {
    void this.#options.publisher
      .publish(this.#options.channels.server(serverId), encodeEnvelope(envelope), { quiet: true })
      .catch((error: unknown) => this.#options.logger.log("warn", "An answer to another node could not be published.", { to: serverId, error }));
  }
}
