/**
 * Turns a connection's hub messages into method calls and their results into Completions, with
 * SignalR's exact error texts (clients and apps parse them), filters around every call, and
 * server-to-client streams. Every call with an id ends with exactly one Completion, whatever
 * fails on the way (a binding, a filter, the method, writing its result), or with its
 * connection's end.
 *
 * @module
 */
import {
  MessageType,
  isProtocolError,
  type ClientMethods,
  type HubContract,
  type HubMessage,
  type InvocationMessage,
  type MessageEnvelope,
  type ProtocolError,
  type StreamInvocationMessage,
} from "@hubwire/protocol";
import { ArgumentBindingError, bindArguments, isPromiseLike } from "./argument-binding.js";
import type { CallContextShared } from "./call-context.js";
import { createHubClients, type ClientResultOptions, type HubClients } from "./clients.js";
import type { HubConnection } from "./connection.js";
import { describeError, ErrorTexts } from "./error-texts.js";
import { HubError, isHubError } from "./errors.js";
import { runFilters, type HubFilter } from "./filters.js";
import type { CompiledMethod, GroupManager, HubCallContext, HubDefinition } from "./hub.js";
import type { ResolvedHubOptions } from "./hub-options.js";
import { HubSession, type SessionShared } from "./hub-session.js";
import type { HubLifetimeManager } from "./lifetime-manager.js";
import type { Logger } from "./logger.js";
import type { HubMetrics } from "./metrics.js";
import { streamToCaller } from "./result-stream.js";
import type { UploadStream } from "./upload-stream.js";

type CallMessage = InvocationMessage | StreamInvocationMessage;

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function";
}

/** Runs one hub's methods for its connections. */
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
  readonly #sessions = new WeakMap<HubConnection, HubSession>();
  readonly #metrics: HubMetrics;
  readonly #sessionShared: SessionShared;
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
  }) {
    this.#hub = init.hub;
    this.#hubName = init.hubName;
    this.#options = init.options;
    this.#filters = [...init.serverFilters, ...init.hub.filters];
    this.#manager = init.manager;
    this.#logger = init.logger;
    this.#metrics = init.metrics;
    this.#resultOptions =
      init.options.clientResultTimeoutMs === undefined ? {} : { timeoutMs: init.options.clientResultTimeoutMs };
    this.#clients = createHubClients(init.manager, this.#resultOptions);
    this.#groups = {
      add: (connectionId, group) => init.manager.addToGroup(connectionId, group),
      remove: (connectionId, group) => init.manager.removeFromGroup(connectionId, group),
    };
    const context: CallContextShared = {
      clients: this.#clients as HubClients<ClientMethods<HubContract>>,
      groups: this.#groups,
      manager: init.manager,
      resultOptions: this.#resultOptions,
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
  async connected(connection: HubConnection): Promise<void> {
    const session = this.#session(connection);
    try {
      await this.#manager.onConnected(connection);
      await runFilters<void>(
        this.#filters,
        (filter, next) => filter.onConnected?.(session.context, next),
        async () => this.#hub.onConnected?.(session.context),
      );
    } catch (error) {
      this.#logger.log("error", "onConnected failed; closing the connection.", { hub: this.#hubName, connectionId: connection.connectionId, error });
      connection.close({ error: describeError(ErrorTexts.connectionClosedWithError, error as Error, this.#options.enableDetailedErrors), cause: error as Error });
      return;
    }
    session.start();
  }

  /** A message arrived on a connected connection. */
  message(connection: HubConnection, message: HubMessage): void {
    const session = this.#session(connection);
    switch (message.type) {
      case MessageType.Invocation:
      case MessageType.StreamInvocation: {
        const uploads = session.openUploads(message.streamIds ?? []);
        if (typeof uploads === "string") {
          this.#bindingFailed(session, this.#nameOf(message.target), message.invocationId, new ArgumentBindingError(uploads));
          return;
        }
        session.invoke(() => this.#invoke(session, message, uploads));
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
  callsAnswered(connection: HubConnection): Promise<void> {
    return this.#sessions.get(connection)?.whenCallsAnswered() ?? Promise.resolve();
  }

  /**
   * A message whose payload the protocol refused: a call fails as a binding failure, an upload
   * ends with an error (SignalR's stream binding failure); the connection reads on.
   */
  refused(connection: HubConnection, envelope: MessageEnvelope, error: ProtocolError): void {
    const session = this.#session(connection);
    switch (envelope.type) {
      case MessageType.Invocation:
      case MessageType.StreamInvocation:
        this.#bindingFailed(session, this.#nameOf(envelope.target ?? ""), envelope.invocationId, new ArgumentBindingError(error.message));
        return;
      case MessageType.StreamItem:
        this.#logger.log("warn", "An upload's item could not be read; ending the upload.", {
          hub: this.#hubName,
          connectionId: connection.connectionId,
          streamId: envelope.invocationId,
          reason: error.message,
        });
        // .NET ends the upload with this HubException and tells the client nothing.
        this.#endUpload(session, envelope.invocationId ?? "", describeError(ErrorTexts.streamBindingFailed, new ArgumentBindingError(error.message), this.#options.enableDetailedErrors));
        return;
      case MessageType.Completion:
        // Not a client result (the connection settles those): it ends an upload, result or not.
        this.#endUpload(session, envelope.invocationId ?? "", undefined);
        return;
    }
  }

  /** The connection ended: run `onDisconnected` (it may still send to the groups it was in), then unregister. */
  async disconnected(connection: HubConnection, error: Error | undefined, wasConnected: boolean): Promise<void> {
    const session = this.#sessions.get(connection);
    if (session === undefined) return;
    session.close();
    if (!wasConnected) return;
    try {
      await runFilters<void>(
        this.#filters,
        (filter, next) => filter.onDisconnected?.(session.context, error, next),
        async () => this.#hub.onDisconnected?.(session.context, error),
      );
    } catch (hookError) {
      this.#logger.log("error", "onDisconnected failed.", { hub: this.#hubName, connectionId: connection.connectionId, error: hookError });
    } finally {
      await this.#manager.onDisconnected(connection).catch((managerError: unknown) =>
        this.#logger.log("error", "The lifetime manager failed to remove a connection.", { connectionId: connection.connectionId, error: managerError }),
      );
    }
  }

  #session(connection: HubConnection): HubSession {
    let session = this.#sessions.get(connection);
    if (session === undefined) {
      session = new HubSession(connection, this.#sessionShared);
      this.#sessions.set(connection, session);
    }
    return session;
  }

  /** The method a call names: keys are lower case, and most clients call with the name as defined, so try it as it is first. */
  #method(target: string): CompiledMethod | undefined {
    const methods = this.#hub.methods;
    return methods.get(target) ?? methods.get(target.toLowerCase());
  }

  /** The name error texts give a call: the method's own, as .NET's binder reports it, or the caller's for an unknown one. */
  #nameOf(target: string): string {
    return this.#method(target)?.name ?? target;
  }

  /** The client ended one of its uploads (`error` if it failed). */
  #endUpload(session: HubSession, streamId: string, error: string | undefined): void {
    const upload = session.upload(streamId);
    if (upload === undefined) {
      this.#logger.log("debug", "A Completion for no pending client result or upload was ignored.", { hub: this.#hubName, connectionId: session.connection.connectionId });
      return;
    }
    session.forgetUpload(streamId);
    upload.complete(error);
  }

  /** Runs one call; whatever happens, a call with an id ends with one Completion. */
  async #invoke(session: HubSession, message: CallMessage, uploads: readonly UploadStream[]): Promise<void> {
    let keepUploads = false;
    try {
      keepUploads = await this.#run(session, message, uploads);
    } catch (error) {
      // Every step that runs application code answers its own failures; this is the last net.
      this.#logger.log("error", "A hub call failed outside its method.", { ...this.#where(session, message.target), error });
      this.#fail(session, message.invocationId, describeError(ErrorTexts.invocationFailed(message.target), error as Error, this.#options.enableDetailedErrors));
    } finally {
      if (!keepUploads) session.closeUploads(message.streamIds ?? [], uploads);
    }
  }

  /**
   * The steps of one call, in ASP.NET Core's order: find the method, bind the arguments, check
   * the kind of call, authorize, check the upload streams, run it (inside the filters), answer.
   * True when it became a stream that still reads its uploads.
   */
  async #run(session: HubSession, message: CallMessage, uploads: readonly UploadStream[]): Promise<boolean> {
    const { connection } = session;
    const { target, invocationId } = message;
    const isStreamCall = message.type === MessageType.StreamInvocation;
    const method = this.#method(target);
    if (method === undefined) {
      this.#bindingFailed(session, target, invocationId, new HubError(ErrorTexts.methodDoesNotExist));
      return false;
    }
    // From here on the method's own name: .NET's binder matches the target case-insensitively and
    // reports the name as the hub declares it.
    const name = method.name;
    let args: unknown[];
    try {
      const bound = bindArguments(method, message.arguments, uploads);
      args = isPromiseLike(bound) ? await bound : bound;
    } catch (error) {
      this.#bindingFailed(session, name, invocationId, error as Error);
      return false;
    }
    const streamController = isStreamCall ? new AbortController() : undefined;
    const context: HubCallContext =
      streamController === undefined ? session.context : session.context.withSignal(AbortSignal.any([connection.signal, streamController.signal]));
    if (method.authorize !== undefined && !(await this.#authorize(session, method, context, message))) return false;
    if (method.isStreaming !== isStreamCall) {
      this.#logger.log("debug", "A call of the wrong kind for its method was refused.", this.#where(session, name));
      this.#fail(session, invocationId, isStreamCall ? ErrorTexts.nonStreamingCalledAsStream(name) : ErrorTexts.streamingCalledAsInvocation(name));
      return false;
    }
    if (uploads.length !== method.uploadCount) {
      const reason = new HubError(ErrorTexts.streamCountMismatch(uploads.length, method.uploadCount));
      this.#logger.log("warn", "A call's upload streams do not fit its method.", { ...this.#where(session, name), reason: reason.message });
      this.#fail(session, invocationId, this.#invocationError(name, reason));
      return false;
    }
    if (streamController !== undefined && session.streams.has(invocationId!)) {
      this.#logger.log("warn", "A stream's invocation id is already in use.", { ...this.#where(session, name), invocationId });
      this.#fail(session, invocationId, ErrorTexts.invocationIdInUse(invocationId!));
      return false;
    }
    if (streamController !== undefined) session.streams.set(invocationId!, streamController);
    let result: unknown;
    try {
      // Without filters, a method that answers at once is answered in the same turn: no promise.
      result =
        this.#filters.length === 0
          ? method.handler(context, ...args)
          : runFilters<unknown>(
              this.#filters,
              (filter, next) => filter.invoke?.({ hub: this.#hubName, method: method.name, args, context }, next),
              async () => method.handler(context, ...args),
            );
      if (isPromiseLike(result)) result = await result;
    } catch (error) {
      if (streamController !== undefined) session.streams.delete(invocationId!);
      this.#logger.log(isHubError(error) ? "debug" : "error", "A hub method threw.", { ...this.#where(session, name), error });
      this.#metrics.invocation(this.#hubName, "error");
      this.#metrics.error("invocation");
      this.#fail(session, invocationId, this.#invocationError(name, error as Error));
      return false;
    }
    this.#metrics.invocation(this.#hubName, "ok");
    if (streamController === undefined) {
      if (isAsyncIterable(result)) {
        // Not declared as streaming, so its caller cannot read a stream: say why in the log.
        await closeIterable(result);
        return this.#misdeclared(session, message, name, `Hub method '${name}' returned an async iterable but does not stream: make it an async function* or give it stream: true.`);
      }
      if (invocationId !== undefined) this.#answer(session, name, invocationId, result);
      return false;
    }
    if (!isAsyncIterable(result)) {
      session.streams.delete(invocationId!);
      return this.#misdeclared(session, message, name, ErrorTexts.streamingMethodReturnedNoStream(name));
    }
    const source = { hub: this.#hubName, method: method.name, logger: this.#logger, enableDetailedErrors: this.#options.enableDetailedErrors };
    // A stream stops counting against the parallel-invocation limit once it is streaming; its
    // uploads stay open until it ends.
    void streamToCaller(connection, invocationId!, result, streamController.signal, source).finally(() => {
      session.streams.delete(invocationId!);
      session.closeUploads(message.streamIds ?? [], uploads);
    });
    return true;
  }

  /** The method's own authorization; false (and the caller answered) when it refuses or throws. */
  async #authorize(session: HubSession, method: CompiledMethod, context: HubCallContext, message: CallMessage): Promise<boolean> {
    try {
      if (await method.authorize!(context)) return true;
    } catch (error) {
      this.#logger.log("error", "A hub method's authorize threw; refusing the call.", { ...this.#where(session, method.name), error });
      this.#fail(session, message.invocationId, this.#invocationError(method.name, error as Error));
      return false;
    }
    this.#logger.log("debug", "A call was not authorized.", this.#where(session, method.name));
    this.#fail(session, message.invocationId, ErrorTexts.unauthorized(method.name));
    return false;
  }

  /** Sends a method's result; one the protocol cannot write becomes the call's error instead. */
  #answer(session: HubSession, target: string, invocationId: string, result: unknown): void {
    try {
      // A result of undefined is left off the wire: the protocols write a void Completion.
      void session.connection.send({ type: MessageType.Completion, invocationId, result });
    } catch (error) {
      if (!isProtocolError(error)) throw error;
      this.#logger.log("error", "A hub method's result cannot be written; the caller gets an error instead.", {
        ...this.#where(session, target),
        protocol: session.connection.protocol?.name,
        error,
      });
      this.#metrics.error("invocation");
      this.#fail(session, invocationId, this.#invocationError(target, error));
    }
  }

  /** A method whose result does not fit how it was declared: logged, and the caller gets the generic error. */
  #misdeclared(session: HubSession, message: CallMessage, name: string, problem: string): false {
    this.#logger.log("error", problem, this.#where(session, name));
    this.#fail(session, message.invocationId, this.#invocationError(name, new Error(problem)));
    return false;
  }

  /** A call whose arguments do not bind: logged with the reason, answered with SignalR's text. */
  #bindingFailed(session: HubSession, target: string, invocationId: string | undefined, reason: Error): void {
    this.#logger.log("warn", "A call's arguments could not be bound.", { ...this.#where(session, target), reason: reason.message });
    this.#fail(session, invocationId, describeError(ErrorTexts.bindingFailed(target), reason, this.#options.enableDetailedErrors));
  }

  #invocationError(target: string, error: Error): string {
    return describeError(ErrorTexts.invocationFailed(target), error, this.#options.enableDetailedErrors);
  }

  #where(session: HubSession, method: string): { hub: string; method: string; connectionId: string } {
    return { hub: this.#hubName, method, connectionId: session.connection.connectionId };
  }

  /** Ends a call with an error, if it has an id to answer. */
  #fail(session: HubSession, invocationId: string | undefined, error: string): void {
    if (invocationId === undefined) return;
    session.connection.sendCompletion({ type: MessageType.Completion, invocationId, error });
  }
}

async function closeIterable(iterable: AsyncIterable<unknown>): Promise<void> {
  try {
    await iterable[Symbol.asyncIterator]().return?.();
  } catch {
    // The producer's own cleanup failed; nothing to report to a client that never got a stream.
  }
}
