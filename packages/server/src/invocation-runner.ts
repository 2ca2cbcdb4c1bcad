/**
 * Running one hub call, in ASP.NET Core's order: find the method, bind its arguments, check the
 * kind of call, authorize, check the upload streams, run it inside the filters, then answer: a
 * Completion with its result, or the caller's stream (`result-stream.ts`). Every call with an id
 * ends with exactly one Completion, whatever fails on the way, with SignalR's exact error texts.
 *
 * @module
 */
import { type InvocationMessage, isProtocolError, MessageType, type StreamInvocationMessage } from "@hubwire/protocol";
import type { Span } from "@opentelemetry/api";
import { bindArguments, isPromiseLike } from "./argument-binding.js";
import { describeError, ErrorTexts } from "./error-texts.js";
import { HubError, isHubError } from "./errors.js";
import { type HubFilter, runFilters } from "./filters.js";
import type { CompiledMethod, HubCallContext, HubDefinition } from "./hub.js";
import type { ResolvedHubOptions } from "./hub-options.js";
import type { HubSession } from "./hub-session.js";
import { isLevelEnabled, type Logger } from "./logger.js";
import type { HubMetrics, InvocationCounts } from "./metrics.js";
import { streamToCaller } from "./result-stream.js";
import { failed, type HubTracing, noSpan } from "./tracing.js";
import type { UploadStream } from "./upload-stream.js";

/** A call from the client: an Invocation, or a StreamInvocation (its result streams). */
export type CallMessage = InvocationMessage | StreamInvocationMessage;

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function";
}

/**
 * Runs the calls of one hub's connections.
 *
 * @example
 * ```ts
 * const runner = new InvocationRunner({ hub, hubName: "chat", options, filters, logger, metrics });
 * session.invoke(() => runner.invoke(session, message, uploads));
 * ```
 */
export class InvocationRunner {
  readonly #hub: HubDefinition;
  readonly #hubName: string;
  readonly #options: ResolvedHubOptions;
  readonly #filters: readonly HubFilter[];
  readonly #logger: Logger;
  readonly #metrics: HubMetrics;
  readonly #tracing: HubTracing;
  readonly #invocations: InvocationCounts;
  /** Whether each invocation is logged (at debug): decided once, so a dropped line costs nothing. */
  readonly #logsInvocations: boolean;

  constructor(init: {
    hub: HubDefinition;
    hubName: string;
    options: ResolvedHubOptions;
    filters: readonly HubFilter[];
    logger: Logger;
    metrics: HubMetrics;
    tracing: HubTracing;
  }) {
    this.#hub = init.hub;
    this.#hubName = init.hubName;
    this.#options = init.options;
    this.#filters = init.filters;
    this.#logger = init.logger;
    this.#metrics = init.metrics;
    this.#tracing = init.tracing;
    this.#invocations = init.metrics.invocationsOf(init.hubName);
    this.#logsInvocations = isLevelEnabled(init.logger, "debug");
  }

  /** The method a call names: keys are lower case, and most clients call with the name as defined, so try it as it is first. */
  method(target: string): CompiledMethod | undefined {
    const methods = this.#hub.methods;
    return methods.get(target) ?? methods.get(target.toLowerCase());
  }

  /** The name error texts give a call: the method's own, as .NET's binder reports it, or the caller's for an unknown one. */
  nameOf(target: string): string {
    return this.method(target)?.name ?? target;
  }

  /**
   * Runs one call; whatever happens, a call with an id ends with one Completion. A call that ends
   * in the turn it started (a method that answers at once, without filters or schemas that wait)
   * returns nothing and takes no promise on the way; one that waits returns the promise of its end.
   */
  invoke(session: HubSession, message: CallMessage, uploads: readonly UploadStream[]): Promise<void> | undefined {
    let outcome: boolean | Promise<boolean> = false;
    try {
      outcome = this.#run(session, message, uploads);
    } catch (error) {
      this.#lastNet(session, message, error);
    } finally {
      if (outcome === false) this.#closeUploads(session, message, uploads);
    }
    if (typeof outcome === "boolean") return undefined;
    return outcome.then(
      (keepUploads) => {
        if (!keepUploads) this.#closeUploads(session, message, uploads);
      },
      (error: unknown) => {
        try {
          this.#lastNet(session, message, error);
        } finally {
          this.#closeUploads(session, message, uploads);
        }
      },
    );
  }

  /** Every step that runs application code answers its own failures; this is the last net. */
  #lastNet(session: HubSession, message: CallMessage, error: unknown): void {
    this.#logger.log("error", "A hub call failed outside its method.", { ...this.#where(session, message.target), error });
    this.#fail(session, message.invocationId, describeError(ErrorTexts.invocationFailed(message.target), error as Error, this.#options.enableDetailedErrors));
  }

  #closeUploads(session: HubSession, message: CallMessage, uploads: readonly UploadStream[]): void {
    if (message.streamIds !== undefined) session.closeUploads(message.streamIds, uploads);
  }

  /**
   * The steps of one call, in ASP.NET Core's order: find the method, bind the arguments, check
   * the kind of call, authorize, check the upload streams, run it (inside the filters), answer.
   * True when it became a stream that still reads its uploads. Each step goes on in the same turn
   * unless it has something to wait for.
   */
  #run(session: HubSession, message: CallMessage, uploads: readonly UploadStream[]): boolean | Promise<boolean> {
    const { target, invocationId } = message;
    const method = this.method(target);
    if (method === undefined) {
      this.bindingFailed(session, target, invocationId, new HubError(ErrorTexts.methodDoesNotExist));
      return false;
    }
    // From here on the method's own name: .NET's binder matches the target case-insensitively and
    // reports the name as the hub declares it.
    if (this.#logsInvocations) {
      this.#logger.log("debug", "Invoking a hub method.", {
        ...this.#where(session, method.name),
        invocationId,
        streaming: message.type === MessageType.StreamInvocation,
      });
    }
    let bound: unknown[] | Promise<unknown[]>;
    try {
      bound = bindArguments(method, message.arguments, uploads);
    } catch (error) {
      this.bindingFailed(session, method.name, invocationId, error as Error);
      return false;
    }
    if (!isPromiseLike(bound)) return this.#authorizeAndCall(session, message, method, bound, uploads);
    return bound.then(
      (args) => this.#authorizeAndCall(session, message, method, args, uploads),
      (error: unknown) => {
        this.bindingFailed(session, method.name, invocationId, error as Error);
        return false;
      },
    );
  }

  /** Authorizes the call with the method's own `authorize` (when it has one), then checks and runs it. */
  #authorizeAndCall(
    session: HubSession,
    message: CallMessage,
    method: CompiledMethod,
    args: unknown[],
    uploads: readonly UploadStream[],
  ): boolean | Promise<boolean> {
    const streamController = message.type === MessageType.StreamInvocation ? new AbortController() : undefined;
    const context: HubCallContext =
      streamController === undefined ? session.context : session.context.withSignal(AbortSignal.any([session.connection.signal, streamController.signal]));
    if (method.authorize === undefined) return this.#call(session, message, method, args, context, streamController, uploads);
    return this.#authorize(session, method, context, message).then((allowed) =>
      allowed ? this.#call(session, message, method, args, context, streamController, uploads) : false,
    );
  }

  /** The checks after authorization, then the method itself, inside its span and the filters. */
  #call(
    session: HubSession,
    message: CallMessage,
    method: CompiledMethod,
    args: unknown[],
    context: HubCallContext,
    streamController: AbortController | undefined,
    uploads: readonly UploadStream[],
  ): boolean | Promise<boolean> {
    const { invocationId } = message;
    const name = method.name;
    if (method.isStreaming !== (streamController !== undefined)) {
      this.#logger.log("debug", "A call of the wrong kind for its method was refused.", this.#where(session, name));
      this.#fail(
        session,
        invocationId,
        streamController !== undefined ? ErrorTexts.nonStreamingCalledAsStream(name) : ErrorTexts.streamingCalledAsInvocation(name),
      );
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
    let span: Span;
    try {
      if (this.#filters.length === 0 && this.#tracing.isOff) {
        // Nothing to run it inside: the method itself, answered in this turn if it answers at once.
        span = noSpan;
        result = callHandler(method.handler, context, args);
      } else {
        // The method runs inside its call's span (tracing.ts), filters included.
        ({ result, span } = this.#tracing.invocation(name, message.headers, () =>
          this.#filters.length === 0
            ? method.handler(context, ...args)
            : runFilters<unknown>(
                this.#filters,
                (filter, next) => filter.invoke?.({ hub: this.#hubName, method: method.name, args, context }, next),
                async () => method.handler(context, ...args),
              ),
        ));
      }
    } catch (error) {
      // The tracing ended the span of a call that threw before it returned.
      return this.#threw(session, message, name, streamController, undefined, error);
    }
    if (!isPromiseLike(result)) return this.#returned(session, message, name, streamController, span, result, uploads);
    return Promise.resolve(result).then(
      (value) => this.#returned(session, message, name, streamController, span, value, uploads),
      (error: unknown) => this.#threw(session, message, name, streamController, span, error),
    );
  }

  /** The method threw or rejected: the caller gets SignalR's text for it. */
  #threw(
    session: HubSession,
    message: CallMessage,
    name: string,
    streamController: AbortController | undefined,
    span: Span | undefined,
    error: unknown,
  ): false {
    if (span !== undefined) {
      failed(span, error);
      span.end();
    }
    if (streamController !== undefined) session.streams.delete(message.invocationId!);
    this.#logger.log(isHubError(error) ? "debug" : "error", "A hub method threw.", { ...this.#where(session, name), error });
    this.#invocations.error();
    this.#metrics.error("invocation");
    this.#fail(session, message.invocationId, this.#invocationError(name, error as Error));
    return false;
  }

  /** The method returned: a Completion with its result, or its stream to the caller. True while a stream reads its uploads. */
  #returned(
    session: HubSession,
    message: CallMessage,
    name: string,
    streamController: AbortController | undefined,
    span: Span,
    result: unknown,
    uploads: readonly UploadStream[],
  ): boolean | Promise<boolean> {
    const { invocationId } = message;
    this.#invocations.ok();
    if (streamController === undefined) {
      span.end();
      if (isAsyncIterable(result)) {
        // Not declared as streaming, so its caller cannot read a stream: say why in the log.
        return closeIterable(result).then(() =>
          this.#misdeclared(
            session,
            message,
            name,
            `Hub method '${name}' returned an async iterable but does not stream: make it an async function* or give it stream: true.`,
          ),
        );
      }
      if (invocationId !== undefined) this.#answer(session, name, invocationId, result);
      return false;
    }
    if (!isAsyncIterable(result)) {
      span.end();
      session.streams.delete(invocationId!);
      return this.#misdeclared(session, message, name, ErrorTexts.streamingMethodReturnedNoStream(name));
    }
    const source = { hub: this.#hubName, method: name, logger: this.#logger, enableDetailedErrors: this.#options.enableDetailedErrors };
    // A stream stops counting against the parallel-invocation limit once it is streaming; its
    // uploads stay open until it ends.
    void streamToCaller(session.connection, invocationId!, result, streamController.signal, source)
      .catch((error: Error) => error)
      .then((error) => {
        // A stream's span lasts until its last item.
        if (error !== undefined) failed(span, error);
        span.end();
        session.streams.delete(invocationId!);
        this.#closeUploads(session, message, uploads);
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
  bindingFailed(session: HubSession, target: string, invocationId: string | undefined, reason: Error): void {
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

/** Calls a method's handler; the usual arities without a spread, which costs a call measurably more. */
function callHandler(handler: CompiledMethod["handler"], context: HubCallContext, args: unknown[]): unknown {
  switch (args.length) {
    case 0:
      return handler(context);
    case 1:
      return handler(context, args[0]);
    case 2:
      return handler(context, args[0], args[1]);
    default:
      return handler(context, ...args);
  }
}
