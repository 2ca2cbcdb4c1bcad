/**
 * Dispatch: a connection's hub messages to where they go. Calls go to the invocation runner
 * (`invocation-runner.ts`, in the connection's queue), upload items and ends to their streams,
 * cancels to the caller's stream; a refused payload fails its call as a binding failure. It also
 * runs each connection's lifecycle: `onConnected` before any call runs, `onDisconnected` at the end.
 *
 * @module
 */
import { type ClientMethods, type HubContract, type HubMessage, type MessageEnvelope, MessageType, type ProtocolError } from "@hubwire/protocol";
import { ArgumentBindingError } from "./argument-binding.js";
import type { CallContextShared } from "./call-context.js";
import { type ClientResultOptions, createHubClients, type HubClients, type InvokeClient } from "./clients.js";
import { describeError, ErrorTexts } from "./error-texts.js";
import { type HubFilter, runFilters } from "./filters.js";
import type { GroupManager, HubDefinition } from "./hub.js";
import type { HubConnectionContext } from "./hub-connection-context.js";
import type { ResolvedHubOptions } from "./hub-options.js";
import { HubSession, noUploads, type SessionShared } from "./hub-session.js";
import { InvocationRunner } from "./invocation-runner.js";
import type { HubLifetimeManager } from "./lifetime-manager.js";
import type { Logger } from "./logger.js";
import type { HubMetrics } from "./metrics.js";
import { HubTracing } from "./tracing.js";

/**
 * A hub's side of its connections: each message to its place (a call to the runner, an upload's
 * item to its stream, a cancel to its stream), and each connection's lifecycle (`onConnected`,
 * `onDisconnected`, its registration with the lifetime manager).
 *
 * @example
 * ```ts
 * const dispatcher = new HubDispatcher({ hub, hubName: "chat", options, serverFilters: [], manager, logger, metrics });
 * await dispatcher.connected(connection);
 * dispatcher.message(connection, message);
 * ```
 */
export class HubDispatcher {
  readonly #hub: HubDefinition;
  readonly #hubName: string;
  readonly #options: ResolvedHubOptions;
  readonly #filters: readonly HubFilter[];
  readonly #manager: HubLifetimeManager;
  readonly #logger: Logger;
  readonly #clients: HubClients<unknown>;
  readonly #groups: GroupManager;
  readonly #resultOptions: ClientResultOptions;
  readonly #sessions = new WeakMap<HubConnectionContext, HubSession>();
  readonly #sessionShared: SessionShared;
  readonly #runner: InvocationRunner;
  readonly #tracing: HubTracing;
  #inFlight = 0;
  readonly #idleWaiters: Array<() => void> = [];

  constructor(init: {
    hub: HubDefinition;
    hubName: string;
    options: ResolvedHubOptions;
    serverFilters: readonly HubFilter[];
    manager: HubLifetimeManager;
    logger: Logger;
    metrics: HubMetrics;
    /** Spans of calls and connections (tracing.ts); the global tracer provider's unless given. */
    tracing?: HubTracing;
  }) {
    this.#hub = init.hub;
    this.#hubName = init.hubName;
    this.#options = init.options;
    this.#filters = [...init.serverFilters, ...init.hub.filters];
    this.#manager = init.manager;
    this.#logger = init.logger;
    this.#tracing = init.tracing ?? new HubTracing(init.hubName);
    this.#runner = new InvocationRunner({
      hub: init.hub,
      hubName: init.hubName,
      options: init.options,
      filters: this.#filters,
      logger: init.logger,
      metrics: init.metrics,
      tracing: this.#tracing,
    });
    this.#resultOptions = init.options.clientResultTimeoutMs === undefined ? {} : { timeoutMs: init.options.clientResultTimeoutMs };
    // A client result runs inside a span of its own (tracing.ts).
    const invokeClient: InvokeClient = (connectionId, method, args, options) =>
      this.#tracing.clientResult(method, () => init.manager.invokeConnection(connectionId, method, args, options));
    this.#clients = createHubClients(init.manager, this.#resultOptions, invokeClient);
    this.#groups = {
      add: (connectionId, group) => init.manager.addToGroup(connectionId, group),
      remove: (connectionId, group) => init.manager.removeFromGroup(connectionId, group),
    };
    const context: CallContextShared = {
      clients: this.#clients as HubClients<ClientMethods<HubContract>>,
      groups: this.#groups,
      manager: init.manager,
      resultOptions: this.#resultOptions,
      invokeClient,
    };
    this.#sessionShared = {
      context,
      maxParallelInvocations: init.options.maxParallelInvocationsPerClient,
      maxUploadStreams: init.options.maxUploadStreamsPerConnection,
      streamBufferCapacity: init.options.streamBufferCapacity,
      countInvocations: this.#countInvocations,
    };
  }

  /** Resolves once no invocation is in flight (at once if none is). */
  whenIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  readonly #countInvocations = (delta: number): void => {
    this.#inFlight += delta;
    if (this.#inFlight > 0 || this.#idleWaiters.length === 0) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  };

  /** The targets for senders outside the hub. */
  get clients(): HubClients<unknown> {
    return this.#clients;
  }

  get groups(): GroupManager {
    return this.#groups;
  }

  /** The handshake is done: register the connection, run `onConnected`, then let invocations run. */
  async connected(connection: HubConnectionContext): Promise<void> {
    const session = this.#session(connection);
    try {
      await this.#manager.onConnected(connection);
      await this.#tracing.lifecycle("OnConnectedAsync", () =>
        runFilters<void>(
          this.#filters,
          (filter, next) => filter.onConnected?.(session.context, next),
          async () => this.#hub.onConnected?.(session.context),
        ),
      );
    } catch (error) {
      this.#logger.log("error", "onConnected failed; closing the connection.", { hub: this.#hubName, connectionId: connection.connectionId, error });
      connection.close({
        error: describeError(ErrorTexts.connectionClosedWithError, error as Error, this.#options.enableDetailedErrors),
        cause: error as Error,
      });
      return;
    }
    this.#logger.log("debug", "A connection connected.", {
      hub: this.#hubName,
      connectionId: connection.connectionId,
      transport: connection.connectedOver,
      protocol: connection.protocol?.name,
      userId: connection.userId,
    });
    session.start();
  }

  /**
   * A connection taken over from a node that died (connection-keeping.ts): addressable here from
   * now on. Its hub's `onConnected` ran on the node that opened it, and runs no second time.
   */
  async resumed(connection: HubConnectionContext): Promise<void> {
    const session = this.#session(connection);
    try {
      await this.#manager.onConnected(connection);
    } catch (error) {
      this.#logger.log("error", "A connection taken over from a node that died could not be registered; closing it.", {
        hub: this.#hubName,
        connectionId: connection.connectionId,
        error,
      });
      connection.close({ error: ErrorTexts.connectionClosedWithError, allowReconnect: true, cause: error as Error });
      return;
    }
    this.#logger.log("debug", "A connection resumed on this node.", { hub: this.#hubName, connectionId: connection.connectionId, userId: connection.userId });
    session.start();
  }

  /** A message arrived on a connected connection. */
  message(connection: HubConnectionContext, message: HubMessage): void {
    const session = this.#session(connection);
    switch (message.type) {
      case MessageType.Invocation:
      case MessageType.StreamInvocation: {
        const uploads = message.streamIds === undefined ? noUploads : session.openUploads(message.streamIds);
        if (typeof uploads === "string") {
          this.#runner.bindingFailed(session, this.#runner.nameOf(message.target), message.invocationId, new ArgumentBindingError(uploads));
          return;
        }
        session.invoke(() => this.#runner.invoke(session, message, uploads));
        return;
      }
      case MessageType.CancelInvocation:
        session.streams.get(message.invocationId)?.abort(new Error("The client cancelled the stream."));
        return;
      case MessageType.Close:
        // The client is leaving: close the transport without answering.
        connection.abort(message.error === undefined ? undefined : `The client closed the connection: ${message.error}`);
        return;
      case MessageType.Completion:
        this.#endUpload(session, message.invocationId, message.error);
        return;
      case MessageType.StreamItem: {
        const upload = session.upload(message.invocationId);
        if (upload === undefined) {
          this.#logger.log("debug", "A stream item for no open upload was ignored.", { hub: this.#hubName, connectionId: connection.connectionId });
          return;
        }
        upload.push(message.item);
        return;
      }
      case MessageType.Ping:
      case MessageType.Ack:
      case MessageType.Sequence:
        return;
    }
  }

  /** Resolves once the calls the connection made so far have been answered. */
  callsAnswered(connection: HubConnectionContext): Promise<void> {
    return this.#sessions.get(connection)?.whenCallsAnswered() ?? Promise.resolve();
  }

  /**
   * A message whose payload the protocol refused: a call fails as a binding failure, an upload
   * ends with an error (SignalR's stream binding failure); the connection reads on.
   */
  refused(connection: HubConnectionContext, envelope: MessageEnvelope, error: ProtocolError): void {
    const session = this.#session(connection);
    switch (envelope.type) {
      case MessageType.Invocation:
      case MessageType.StreamInvocation:
        this.#runner.bindingFailed(session, this.#runner.nameOf(envelope.target ?? ""), envelope.invocationId, new ArgumentBindingError(error.message));
        return;
      case MessageType.StreamItem:
        this.#logger.log("warn", "An upload's item could not be read; ending the upload.", {
          hub: this.#hubName,
          connectionId: connection.connectionId,
          streamId: envelope.invocationId,
          reason: error.message,
        });
        // .NET ends the upload with this HubException and tells the client nothing.
        this.#endUpload(
          session,
          envelope.invocationId ?? "",
          describeError(ErrorTexts.streamBindingFailed, new ArgumentBindingError(error.message), this.#options.enableDetailedErrors),
        );
        return;
      case MessageType.Completion:
        // Not a client result (the connection settles those): it ends an upload, result or not.
        this.#endUpload(session, envelope.invocationId ?? "", undefined);
        return;
    }
  }

  /** The connection ended: run `onDisconnected` (it may still send to the groups it was in), then unregister. */
  async disconnected(connection: HubConnectionContext, error: Error | undefined, wasConnected: boolean): Promise<void> {
    const session = this.#sessions.get(connection);
    if (session === undefined) return;
    session.close();
    if (!wasConnected) return;
    if (error === undefined) this.#logger.log("debug", "A connection disconnected.", { hub: this.#hubName, connectionId: connection.connectionId });
    else this.#logger.log("warn", "A connection closed with an error.", { hub: this.#hubName, connectionId: connection.connectionId, reason: error.message });
    try {
      await this.#tracing.lifecycle("OnDisconnectedAsync", () =>
        runFilters<void>(
          this.#filters,
          (filter, next) => filter.onDisconnected?.(session.context, error, next),
          async () => this.#hub.onDisconnected?.(session.context, error),
        ),
      );
    } catch (hookError) {
      this.#logger.log("error", "onDisconnected failed.", { hub: this.#hubName, connectionId: connection.connectionId, error: hookError });
    } finally {
      await this.#manager
        .onDisconnected(connection)
        .catch((managerError: unknown) =>
          this.#logger.log("error", "The lifetime manager failed to remove a connection.", { connectionId: connection.connectionId, error: managerError }),
        );
    }
  }

  #session(connection: HubConnectionContext): HubSession {
    let session = this.#sessions.get(connection);
    if (session === undefined) {
      session = new HubSession(connection, this.#sessionShared);
      this.#sessions.set(connection, session);
    }
    return session;
  }

  /** The client ended one of its uploads (`error` if it failed). */
  #endUpload(session: HubSession, streamId: string, error: string | undefined): void {
    const upload = session.upload(streamId);
    if (upload === undefined) {
      this.#logger.log("debug", "A Completion for no pending client result or upload was ignored.", {
        hub: this.#hubName,
        connectionId: session.connection.connectionId,
      });
      return;
    }
    session.forgetUpload(streamId);
    upload.complete(error);
  }
}
