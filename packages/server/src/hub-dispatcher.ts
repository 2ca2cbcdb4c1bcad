/**
 * Turns a connection's hub messages into method calls and their results into Completions, with
 * SignalR's exact error texts (clients and apps parse them), filters around every call, and
 * server-to-client streams.
 *
 * @module
 */
import {
  MessageType,
  type ClientMethods,
  type HubContract,
  type HubMessage,
  type InvocationMessage,
  type StreamInvocationMessage,
} from "@hubwire/protocol";
import { CallContext, type CallContextShared } from "./call-context.js";
import { createHubClients, type ClientResultOptions, type HubClients } from "./clients.js";
import type { HubConnection } from "./connection.js";
import { isHubError } from "./errors.js";
import { runFilters, type HubFilter } from "./filters.js";
import type { CompiledMethod, GroupManager, HubCallContext, HubDefinition, StandardSchemaLike } from "./hub.js";
import type { ResolvedHubOptions } from "./hub-options.js";
import { InvocationQueue, type QueueOwner } from "./invocation-queue.js";
import { UploadStream } from "./upload-stream.js";
import type { HubLifetimeManager } from "./lifetime-manager.js";
import type { Logger } from "./logger.js";
import type { HubMetrics } from "./metrics.js";

/** A binding failure: the arguments do not fit the method. */
class ArgumentBindingError extends Error {
  override readonly name = "InvalidDataException";
}

/** What every session of one hub shares. */
interface SessionShared {
  readonly context: CallContextShared;
  readonly maxParallelInvocations: number;
  readonly countInvocations: (delta: number) => void;
}

/**
 * What the dispatcher keeps per connection. Its call context, invocation queue and maps are made
 * on first use: an idle connection (the common case, by far) may never call, stream, upload or
 * pause, and one process holds tens of thousands of them.
 */
class Session implements QueueOwner {
  readonly #shared: SessionShared;
  /** Made on the first invocation; until then `start` and `close` are only remembered. */
  #queue: InvocationQueue | undefined;
  #started = false;
  #closed = false;
  #context: CallContext | undefined;
  #streams: Map<string, AbortController> | undefined;
  #uploads: Map<string, UploadStream> | undefined;
  #pauseReasons: Set<unknown> | undefined;

  constructor(
    readonly connection: HubConnection,
    shared: SessionShared,
  ) {
    this.#shared = shared;
  }

  /** Lets invocations run: `onConnected` has finished. */
  start(): void {
    this.#started = true;
    this.#queue?.start();
  }

  /** Queues an invocation (in arrival order, at most the parallel limit at once). */
  invoke(task: () => Promise<unknown>): void {
    if (this.#closed) return;
    if (this.#queue === undefined) {
      this.#queue = new InvocationQueue(this.#shared.maxParallelInvocations, this, this.#shared.countInvocations);
      if (this.#started) this.#queue.start();
    }
    this.#queue.push(task);
  }

  /**
   * The connection is gone: drops invocations that have not started, cancels its streams and ends
   * its uploads (reading the maps only if they were ever made).
   */
  close(): void {
    this.#closed = true;
    this.#queue?.close();
    for (const stream of this.#streams?.values() ?? []) stream.abort(new Error("The connection closed."));
    for (const upload of this.#uploads?.values() ?? []) upload.complete("The connection closed.");
    this.#uploads?.clear();
  }

  /** The connection's call context, made when a hook or a call first needs it. */
  get context(): CallContext {
    return (this.#context ??= new CallContext(this.connection, this.#shared.context));
  }

  queuePaused(paused: boolean): void {
    setPaused(this.connection, this.pauseReasons, "queue", paused);
  }

  /** Server-to-client streams in progress, by invocation id, to cancel them. */
  get streams(): Map<string, AbortController> {
    return (this.#streams ??= new Map());
  }

  /** Client-to-server streams open, by stream id. */
  get uploads(): Map<string, UploadStream> {
    return (this.#uploads ??= new Map());
  }

  /** Why reading is paused (a queue backlog, full uploads); reading resumes when none is left. */
  get pauseReasons(): Set<unknown> {
    return (this.#pauseReasons ??= new Set());
  }
}

const noUploads: readonly UploadStream[] = Object.freeze([]);

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
  readonly #sessions = new WeakMap<HubConnection, Session>();
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
    this.#sessionShared = {
      context: {
        clients: this.#clients as HubClients<ClientMethods<HubContract>>,
        groups: this.#groups,
        manager: init.manager,
        resultOptions: this.#resultOptions,
      },
      maxParallelInvocations: init.options.maxParallelInvocationsPerClient,
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
      connection.close({ error: this.#describe("Connection closed with an error.", error as Error), cause: error as Error });
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
        // Uploads open now, not when the call runs: their items may arrive while an earlier call still runs.
        const uploads = this.#openUploads(session, message);
        if (uploads === undefined) return;
        session.invoke(uploads.length === 0 ? () => this.#run(session, message, uploads) : () => this.#invoke(session, message, uploads));
        return;
      }
      case MessageType.CancelInvocation:
        session.streams.get(message.invocationId)?.abort(new Error("The client cancelled the stream."));
        return;
      case MessageType.Close:
        // The client is leaving: close the transport without answering.
        connection.abort(message.error === undefined ? undefined : `The client closed the connection: ${message.error}`);
        return;
      case MessageType.Completion: {
        const upload = session.uploads.get(message.invocationId);
        if (upload === undefined) {
          this.#logger.log("debug", "A Completion for no pending client result or upload was ignored.", { connectionId: connection.connectionId });
          return;
        }
        session.uploads.delete(message.invocationId);
        upload.complete(message.error);
        return;
      }
      case MessageType.StreamItem: {
        const upload = session.uploads.get(message.invocationId);
        if (upload === undefined) {
          this.#logger.log("debug", "A stream item for no open upload was ignored.", { connectionId: connection.connectionId });
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

  #session(connection: HubConnection): Session {
    let session = this.#sessions.get(connection);
    if (session === undefined) {
      session = new Session(connection, this.#sessionShared);
      this.#sessions.set(connection, session);
    }
    return session;
  }

  #describe(generic: string, error: Error): string {
    if (isHubError(error)) return `${generic} HubException: ${error.message}`;
    return this.#options.enableDetailedErrors ? `${generic} ${error.name}: ${error.message}` : generic;
  }

  #fail(session: Session, invocationId: string | undefined, error: string): void {
    if (invocationId === undefined) return;
    void session.connection.send({ type: MessageType.Completion, invocationId, error });
  }

  /** Opens the upload streams an invocation names; undefined (and an error sent) when it may not. */
  #openUploads(session: Session, message: InvocationMessage | StreamInvocationMessage): readonly UploadStream[] | undefined {
    const ids = message.streamIds;
    if (ids === undefined || ids.length === 0) return noUploads;
    const refuse = (reason: string) => {
      this.#fail(session, message.invocationId, this.#describeBinding(`Failed to invoke '${message.target}' due to an error on the server.`, new ArgumentBindingError(reason)));
      return undefined;
    };
    if (new Set(ids).size !== ids.length || ids.some((id) => session.uploads.has(id))) return refuse("A stream id is already in use.");
    if (session.uploads.size + ids.length > this.#options.maxUploadStreamsPerConnection) {
      return refuse(`More than ${this.#options.maxUploadStreamsPerConnection} upload streams at once.`);
    }
    return ids.map((id) => {
      const upload: UploadStream = new UploadStream(this.#options.streamBufferCapacity, (full) =>
        setPaused(session.connection, session.pauseReasons, upload, full),
      );
      session.uploads.set(id, upload);
      return upload;
    });
  }

  /** Forgets an invocation's uploads once it no longer reads them. */
  #closeUploads(session: Session, message: InvocationMessage | StreamInvocationMessage, uploads: readonly UploadStream[]): void {
    for (const [index, id] of (message.streamIds ?? []).entries()) {
      if (session.uploads.get(id) === uploads[index]) session.uploads.delete(id);
      uploads[index]?.discard();
    }
  }

  async #invoke(session: Session, message: InvocationMessage | StreamInvocationMessage, uploads: readonly UploadStream[]): Promise<void> {
    let keepUploads = false;
    try {
      keepUploads = await this.#run(session, message, uploads);
    } finally {
      if (!keepUploads) this.#closeUploads(session, message, uploads);
    }
  }

  /** Runs one call; true when it became a stream that still reads its uploads. */
  async #run(session: Session, message: InvocationMessage | StreamInvocationMessage, uploads: readonly UploadStream[]): Promise<boolean> {
    const { connection } = session;
    const { target, invocationId } = message;
    const isStreamCall = message.type === MessageType.StreamInvocation;
    // Keys are lower case; most clients call with the name as defined, so try it as it is first.
    const methods = this.#hub.methods;
    const method = methods.get(target) ?? methods.get(target.toLowerCase());
    if (method === undefined) {
      this.#logger.log("debug", "Call of an unknown hub method.", { hub: this.#hubName, connectionId: connection.connectionId, method: target });
      this.#fail(session, invocationId, `Failed to invoke '${target}' due to an error on the server. HubException: Method does not exist.`);
      return false;
    }
    const streamController = isStreamCall ? new AbortController() : undefined;
    const context: HubCallContext =
      streamController === undefined
        ? session.context
        : session.context.withSignal(AbortSignal.any([connection.signal, streamController.signal]));
    if (method.authorize !== undefined && !(await method.authorize(context))) {
      this.#fail(session, invocationId, `Failed to invoke '${target}' because user is unauthorized`);
      return false;
    }
    let args: unknown[];
    try {
      const bound = this.#bind(method, message, uploads);
      args = isPromiseLike(bound) ? await bound : bound;
    } catch (error) {
      this.#fail(session, invocationId, this.#describeBinding(`Failed to invoke '${target}' due to an error on the server.`, error as Error));
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
      this.#logger.log(isHubError(error) ? "debug" : "error", "A hub method threw.", { hub: this.#hubName, method: method.name, error });
      this.#metrics.invocation(this.#hubName, "error");
      this.#metrics.error("invocation");
      this.#fail(session, invocationId, this.#describe(`An unexpected error occurred invoking '${target}' on the server.`, error as Error));
      return false;
    }
    this.#metrics.invocation(this.#hubName, "ok");
    if (streamController === undefined) {
      if (isAsyncIterable(result)) {
        await closeIterable(result);
        this.#fail(session, invocationId, `Failed to invoke '${target}' due to an error on the server. HubException: The client attempted to invoke the streaming '${method.name}' method with a non-streaming invocation.`);
        return false;
      }
      if (invocationId !== undefined) {
        // A result of undefined is left off the wire: the protocols write a void Completion.
        void connection.send({ type: MessageType.Completion, invocationId, result });
      }
      return false;
    }
    if (!isAsyncIterable(result)) {
      session.streams.delete(invocationId!);
      this.#fail(session, invocationId, `Failed to invoke '${target}' due to an error on the server. HubException: The client attempted to invoke the non-streaming '${method.name}' method with a streaming invocation.`);
      return false;
    }
    // A stream stops counting against the parallel-invocation limit once it is streaming; its
    // uploads stay open until it ends.
    void this.#stream(session, invocationId!, result, streamController).finally(() => this.#closeUploads(session, message, uploads));
    return true;
  }

  async #stream(session: Session, invocationId: string, items: AsyncIterable<unknown>, controller: AbortController): Promise<void> {
    const { connection } = session;
    const iterator = items[Symbol.asyncIterator]();
    const cancelled = new Promise<"cancelled">((resolve) => {
      if (controller.signal.aborted) resolve("cancelled");
      controller.signal.addEventListener("abort", () => resolve("cancelled"), { once: true });
    });
    let error: Error | undefined;
    try {
      for (;;) {
        const next = await Promise.race([iterator.next(), cancelled]);
        if (next === "cancelled" || next.done === true) break;
        await connection.send({ type: MessageType.StreamItem, invocationId, item: next.value });
      }
    } catch (caught) {
      error = caught as Error;
    } finally {
      session.streams.delete(invocationId);
    }
    if (controller.signal.aborted) {
      // Cancelled by the client or ended by the connection: stop the producer; nothing more is sent.
      void Promise.resolve(iterator.return?.()).catch(() => undefined);
      return;
    }
    void connection.send({
      type: MessageType.Completion,
      invocationId,
      ...(error === undefined ? {} : { error: this.#describe("An error occurred on the server while streaming results.", error) }),
    });
  }

  #describeBinding(generic: string, error: Error): string {
    return this.#options.enableDetailedErrors ? `${generic} ${error.name}: ${error.message}` : generic;
  }

  /** The call's arguments; a promise only when a schema validates asynchronously. Throws on a mismatch. */
  #bind(method: CompiledMethod, message: InvocationMessage | StreamInvocationMessage, uploads: readonly UploadStream[]): unknown[] | Promise<unknown[]> {
    const given = message.arguments;
    if (method.args === undefined) {
      // Without specs, upload streams follow the plain arguments.
      if (given.length + uploads.length !== method.parameterCount) {
        throw new ArgumentBindingError(
          `Invocation provides ${given.length} argument(s) and ${uploads.length} stream(s) but target expects ${method.parameterCount} in all.`,
        );
      }
      return [...given, ...uploads];
    }
    const expectedStreams = method.args.filter((spec) => spec === "stream").length;
    if (uploads.length !== expectedStreams) {
      throw new ArgumentBindingError(`Client sent ${uploads.length} stream(s), Hub method expects ${expectedStreams}.`);
    }
    if (given.length !== method.parameterCount - expectedStreams) {
      throw new ArgumentBindingError(`Invocation provides ${given.length} argument(s) but target expects ${method.parameterCount - expectedStreams}.`);
    }
    const args: unknown[] = [];
    let argument = 0;
    let stream = 0;
    let isAsync = false;
    for (const [index, spec] of method.args.entries()) {
      const value = spec === "stream" ? uploads[stream++] : checkArgument(spec, given[argument++], index);
      isAsync ||= isPromiseLike(value);
      args.push(value);
    }
    return isAsync ? Promise.all(args) : args;
  }
}

/** Pauses the connection's reading while any reason holds, resumes when none does. */
function setPaused(connection: HubConnection, reasons: Set<unknown>, reason: unknown, paused: boolean): void {
  const before = reasons.size;
  if (paused) reasons.add(reason);
  else reasons.delete(reason);
  if (before === 0 && reasons.size > 0) connection.transport?.pause();
  else if (before > 0 && reasons.size === 0) connection.transport?.resume();
}

async function closeIterable(iterable: AsyncIterable<unknown>): Promise<void> {
  try {
    await iterable[Symbol.asyncIterator]().return?.();
  } catch {
    // The producer's own cleanup failed; nothing to report to a client that never got a stream.
  }
}

const mismatch = () =>
  new ArgumentBindingError(
    "Error binding arguments. Make sure that the types of the provided values match the types of the hub method being invoked.",
  );

/** The checked value, or a promise of it when a Standard Schema validates asynchronously. */
function checkArgument(spec: NonNullable<CompiledMethod["args"]>[number], value: unknown, index: number): unknown {
  switch (spec) {
    case "any":
      return value;
    case "string":
    case "number":
    case "boolean":
      if (typeof value !== spec) throw mismatch();
      return value;
    case "object":
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw mismatch();
      return value;
    case "array":
      if (!Array.isArray(value)) throw mismatch();
      return value;
    case "stream":
      throw new ArgumentBindingError(`Parameter ${index} is a stream.`);
  }
  if (typeof spec === "function") {
    if (!spec(value)) throw mismatch();
    return value;
  }
  const checked = (outcome: StandardSchemaResult): unknown => {
    if (outcome.issues !== undefined && outcome.issues.length > 0) {
      throw new ArgumentBindingError(`Argument ${index} is invalid: ${outcome.issues.map((issue) => issue.message).join("; ")}`);
    }
    return outcome.value;
  };
  const outcome = spec["~standard"].validate(value);
  return isPromiseLike(outcome) ? Promise.resolve(outcome).then(checked) : checked(outcome);
}

type StandardSchemaResult = Awaited<ReturnType<StandardSchemaLike["~standard"]["validate"]>>;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null | undefined)?.then === "function";
}
