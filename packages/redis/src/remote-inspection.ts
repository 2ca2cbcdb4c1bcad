/**
 * Inspection across nodes: one node asks on the hub's `all` channel, every other node answers
 * on the asker's server channel with what its inspector says, and the asker gathers the answers
 * until every node it knows is alive has answered or the deadline passes. The nodes it expected
 * and did not hear from are reported, never waited for. Both sides live here.
 *
 * @module
 * @example
 * ```ts
 * const inspection = new RemoteInspection({ serverId, channels, publisher, liveNodeIds: () => liveness.liveNodeIds(), newId });
 * inspection.serve(inspector);
 * const { answers, unanswered } = await inspection.gather({ connections: { limit: 50 } }, 2_000);
 * ```
 */
import type { GatheredAnswers, InspectionRequest, Logger, NodeAnswer, NodeInspector } from "@hubwire/server";
import type { BackplanePublisher } from "./backplane-publisher.js";
import type { HubChannels } from "./channels.js";
import { type Clock, systemClock } from "./clock.js";
import { EnvelopeKind, type EnvelopeOf, encodeEnvelope } from "./envelope.js";

export interface RemoteInspectionOptions {
  readonly serverId: string;
  readonly channels: HubChannels;
  readonly publisher: Pick<BackplanePublisher, "publish">;
  /** The other nodes this one knows are alive: the answers it waits for. */
  liveNodeIds(): readonly string[];
  /** A new request id, unique across nodes. */
  newId(): string;
  readonly logger: Logger;
  readonly clock?: Clock;
}

/** One gathering in progress. */
interface Gathering {
  readonly answers: NodeAnswer[];
  readonly expected: ReadonlySet<string>;
  readonly heard: Set<string>;
  done(): void;
}

/**
 * @example
 * ```ts
 * router = new BackplaneRouter({ ...options, onInspectRequest: (envelope) => inspection.answer(envelope), onInspectResponse: (envelope) => inspection.receive(envelope) });
 * ```
 */
export class RemoteInspection {
  readonly #options: RemoteInspectionOptions;
  readonly #clock: Clock;
  readonly #gatherings = new Map<string, Gathering>();
  #inspector: NodeInspector | undefined;

  constructor(options: RemoteInspectionOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** How this node answers; until it is given, this node answers nothing (it holds no hub yet). */
  serve(inspector: NodeInspector): void {
    this.#inspector = inspector;
  }

  /** The inspector this node answers with, if it has one. */
  get inspector(): NodeInspector | undefined {
    return this.#inspector;
  }

  /** Every node's answer to `request`, this one's first, gathered for at most `timeoutMs`. */
  async gather(request: InspectionRequest, timeoutMs: number): Promise<GatheredAnswers> {
    const { serverId, channels, publisher } = this.#options;
    const requestId = this.#options.newId();
    const own = this.#inspector?.answer(request);
    const expected = new Set(this.#options.liveNodeIds());
    const gathering: Gathering = { answers: own === undefined ? [] : [own], expected, heard: new Set(), done: () => undefined };
    const finished = new Promise<void>((resolve) => {
      const cancel = this.#clock.after(timeoutMs, () => resolve());
      gathering.done = () => (cancel(), resolve());
    });
    this.#gatherings.set(requestId, gathering);
    try {
      if (expected.size > 0) {
        await publisher.publish(channels.all, encodeEnvelope({ kind: EnvelopeKind.InspectRequest, requestId, serverId, request }));
        await finished;
      }
    } catch (error) {
      // Redis is away: this node's answer alone, and every other node unanswered.
      this.#options.logger.log("warn", "Could not ask the other nodes for their inspection answers.", { error: (error as Error).message });
    } finally {
      this.#gatherings.delete(requestId);
      gathering.done();
    }
    return { answers: gathering.answers, unanswered: [...expected].filter((nodeId) => !gathering.heard.has(nodeId)).sort() };
  }

  /** Another node asks: answered on its server channel, if this node has an inspector. */
  answer(envelope: EnvelopeOf<typeof EnvelopeKind.InspectRequest>): void {
    const inspector = this.#inspector;
    if (inspector === undefined || envelope.serverId === this.#options.serverId) return;
    let answer: NodeAnswer;
    try {
      answer = inspector.answer(envelope.request);
    } catch (error) {
      this.#options.logger.log("warn", "Could not answer another node's inspection.", { error: (error as Error).message });
      return;
    }
    const { channels, publisher } = this.#options;
    void publisher
      .publish(channels.server(envelope.serverId), encodeEnvelope({ kind: EnvelopeKind.InspectResponse, requestId: envelope.requestId, answer }))
      .catch(() => undefined);
  }

  /** An answer to a gathering of this node's; a late one (after the deadline) is dropped. */
  receive(envelope: EnvelopeOf<typeof EnvelopeKind.InspectResponse>): void {
    const gathering = this.#gatherings.get(envelope.requestId);
    const nodeId = envelope.answer.summary?.nodeId;
    if (gathering === undefined || typeof nodeId !== "string" || gathering.heard.has(nodeId)) return;
    gathering.heard.add(nodeId);
    gathering.answers.push(envelope.answer);
    if ([...gathering.expected].every((expected) => gathering.heard.has(expected))) gathering.done();
  }
}
