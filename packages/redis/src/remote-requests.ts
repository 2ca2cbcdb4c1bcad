/**
 * Group changes and client results for a connection that another node holds. The request is
 * published where that node listens (the hub's group-command channel, or the connection's own
 * channel); the node acknowledges it on this node's server channel within `ackTimeoutMs` (none
 * does for an unknown connection), and a client result follows there as a ResultResponse. Both
 * sides live here: asking, and answering what other nodes ask.
 *
 * @module
 */
import { ClientResultError, type ClientResultOptions, type ManagedConnection, UnknownConnectionError } from "@hubwire/server";
import type { BackplanePublisher } from "./backplane-publisher.js";
import type { HubChannels } from "./channels.js";
import { type Envelope, EnvelopeKind, type EnvelopeOf, encodeEnvelope } from "./envelope.js";
import type { PendingRequests } from "./pending-requests.js";

/** A group change, applied by the node holding the connection. */
export type GroupAction = "add" | "remove";

export interface RemoteRequestsOptions {
  readonly serverId: string;
  readonly channels: HubChannels;
  readonly publisher: Pick<BackplanePublisher, "publish">;
  /** Where acknowledgements and results are awaited (the router settles them). */
  readonly requests: PendingRequests;
  readonly ackTimeoutMs: number;
  /** A new request id, unique across nodes. */
  newId(): string;
  /** The connection if this node holds it. */
  localConnection(connectionId: string): ManagedConnection | undefined;
  /** Applies a group change to a connection this node holds. */
  applyGroupAction(action: GroupAction, connectionId: string, group: string): Promise<void>;
  /** Ends a connection this node holds (an operator's request); false if it holds none of that id. */
  disconnectLocal(connectionId: string): boolean;
}

/** The suffix that turns a client result's id into the id of its request's acknowledgement. */
const ackSuffix = ":ack";

/**
 * @example
 * ```ts
 * const remote = new RemoteRequests({ serverId, channels, publisher, requests, ackTimeoutMs: 5_000, newId, localConnection, applyGroupAction });
 * await remote.changeGroup("add", "conn-on-another-node", "room"); // rejects with UnknownConnectionError if no node has it
 * const answer = await remote.invoke("conn-on-another-node", "confirm", ["Sure?"], { timeoutMs: 10_000 });
 * ```
 */
export class RemoteRequests {
  readonly #options: RemoteRequestsOptions;

  constructor(options: RemoteRequestsOptions) {
    this.#options = options;
  }

  /** Asks the node holding `connectionId` to change its groups; resolves once it has. */
  async changeGroup(action: GroupAction, connectionId: string, group: string): Promise<void> {
    const { channels, serverId } = this.#options;
    await this.#request(channels.groupCommands, connectionId, (requestId) => ({
      kind: EnvelopeKind.GroupCommand,
      requestId,
      serverId,
      action,
      connectionId,
      group,
    }));
  }

  /** Asks the node holding `connectionId` to end it; resolves once it has. */
  async disconnect(connectionId: string): Promise<void> {
    const { channels, serverId } = this.#options;
    await this.#request(channels.connection(connectionId), connectionId, (requestId) => ({
      kind: EnvelopeKind.DisconnectCommand,
      requestId,
      serverId,
      connectionId,
    }));
  }

  /** Another node asks to end a connection: ended and acknowledged if this node holds it. */
  answerDisconnect(envelope: EnvelopeOf<typeof EnvelopeKind.DisconnectCommand>): void {
    if (!this.#options.disconnectLocal(envelope.connectionId)) return;
    void this.#reply(envelope.serverId, { kind: EnvelopeKind.Ack, requestId: envelope.requestId });
  }

  /** Asks the node holding `connectionId` for a client result, and awaits it. */
  async invoke(connectionId: string, method: string, args: readonly unknown[], options: ClientResultOptions): Promise<unknown> {
    const { channels, serverId, requests } = this.#options;
    const resultId = this.#options.newId();
    const result = requests.expect(resultId, {
      timeoutMs: options.timeoutMs,
      onTimeout: () => new ClientResultError(`The client did not answer '${method}' within ${options.timeoutMs} ms.`),
      signal: options.signal,
      onAbort: () => new ClientResultError(`The client result for '${method}' was cancelled.`),
    });
    try {
      await this.#request(
        channels.connection(connectionId),
        connectionId,
        (requestId) => ({ kind: EnvelopeKind.ResultRequest, requestId, serverId, connectionId, method, args, timeoutMs: options.timeoutMs ?? null }),
        `${resultId}${ackSuffix}`,
      );
    } catch (error) {
      result.catch(() => undefined);
      requests.reject(resultId, error as Error);
      throw error;
    }
    return result;
  }

  /** Another node asks to change the groups of a connection: applied and acknowledged if this node holds it. */
  answerGroupCommand(envelope: EnvelopeOf<typeof EnvelopeKind.GroupCommand>): void {
    if (this.#options.localConnection(envelope.connectionId) === undefined) return;
    void this.#options
      .applyGroupAction(envelope.action, envelope.connectionId, envelope.group)
      .then(() => this.#reply(envelope.serverId, { kind: EnvelopeKind.Ack, requestId: envelope.requestId }));
  }

  /** Another node asks for a client result: acknowledged at once if this node holds the connection, answered when the client does. */
  answerResult(envelope: EnvelopeOf<typeof EnvelopeKind.ResultRequest>): void {
    const connection = this.#options.localConnection(envelope.connectionId);
    if (connection === undefined) return;
    const resultId = envelope.requestId.endsWith(ackSuffix) ? envelope.requestId.slice(0, -ackSuffix.length) : envelope.requestId;
    void this.#reply(envelope.serverId, { kind: EnvelopeKind.Ack, requestId: envelope.requestId });
    connection.invokeClient(envelope.method, envelope.args, envelope.timeoutMs === null ? {} : { timeoutMs: envelope.timeoutMs }).then(
      (result) => this.#reply(envelope.serverId, { kind: EnvelopeKind.ResultResponse, requestId: resultId, error: null, result: result ?? null }),
      (error: Error) => this.#reply(envelope.serverId, { kind: EnvelopeKind.ResultResponse, requestId: resultId, error: error.message, result: null }),
    );
  }

  /** Publishes a request and waits for the node holding `connectionId` to acknowledge it. */
  async #request(channel: string, connectionId: string, build: (requestId: string) => Envelope, requestId = this.#options.newId()): Promise<void> {
    const { requests, ackTimeoutMs, publisher } = this.#options;
    const acknowledged = requests.expect(requestId, { timeoutMs: ackTimeoutMs, onTimeout: () => new UnknownConnectionError(connectionId) });
    try {
      await publisher.publish(channel, encodeEnvelope(build(requestId)));
    } catch (error) {
      requests.reject(requestId, error as Error);
      await acknowledged.catch(() => undefined);
      throw error;
    }
    await acknowledged;
  }

  async #reply(serverId: string, envelope: Envelope): Promise<void> {
    try {
      await this.#options.publisher.publish(this.#options.channels.server(serverId), encodeEnvelope(envelope));
    } catch {
      // Counted and logged by the publisher; the requester times out.
    }
  }
}
