/**
 * OpenTelemetry spans for a hub, named and tagged as ASP.NET Core 9's SignalR server names its
 * activities (the `Microsoft.AspNetCore.SignalR.Server` activity source), through
 * `@opentelemetry/api` alone: without an SDK installed every span is a no-op.
 *
 * - One span per hub method call, `{hub}/{method}`, of kind SERVER, parented on the trace context
 *   the client sent in the invocation's headers (read with the global propagator, W3C
 *   `traceparent` with the SDK's default), or a root span when it sent none, as .NET does. The
 *   method runs inside it, so spans the method starts are its children. A stream's span lasts
 *   until the stream ends.
 * - `{hub}/OnConnectedAsync` and `{hub}/OnDisconnectedAsync`, of kind INTERNAL, around the hub's
 *   connect and disconnect handlers.
 * - `{hub}/{method}` of kind CLIENT for each client result the server awaits (a hub method, or
 *   `hubContext`, calling a client method for its answer), child of whatever asked.
 * - Attributes as OpenTelemetry's RPC conventions and .NET give them: `rpc.system` = `signalr`,
 *   `rpc.service` = the hub's name, `rpc.method` = the method; on failure `error.type` (the
 *   error's class name) and an error status.
 *
 * @module
 * @example
 * ```ts
 * const tracing = new HubTracing("chat", trace.getTracerProvider());
 * await tracing.invocation("send", message.headers, () => method.handler(ctx, ...args));
 * ```
 */
import {
  context,
  INVALID_SPAN_CONTEXT,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { isPromiseLike } from "./argument-binding.js";

/** The tracer's name: the activity source ASP.NET Core's SignalR server uses. */
export const tracerName = "Microsoft.AspNetCore.SignalR.Server";

/** Reads a header of an invocation for the propagator. */
const headerGetter = {
  get: (carrier: Readonly<Record<string, string>>, key: string) => carrier[key],
  keys: (carrier: Readonly<Record<string, string>>) => Object.keys(carrier),
};

/** The span of a call while no SDK is installed: records nothing, so every call can share it. */
export const noSpan: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * The spans of one hub.
 *
 * @example
 * ```ts
 * const tracing = new HubTracing("chat");
 * await tracing.lifecycle("OnConnectedAsync", () => hub.onConnected?.(ctx));
 * ```
 */
export class HubTracing {
  readonly #hubName: string;
  readonly #tracer: Tracer;
  /** The global provider, while it may still be waiting for an SDK to be installed. */
  readonly #proxy: ProxyTracerProvider | undefined;
  readonly #methods = new Map<string, { readonly name: string; readonly attributes: Readonly<Record<string, string>> }>();

  /** `provider`: where spans go; the global one (set by the app's SDK) unless given. */
  constructor(hubName: string, provider: TracerProvider = trace.getTracerProvider()) {
    this.#hubName = hubName;
    this.#tracer = provider.getTracer(tracerName);
    this.#proxy = provider instanceof ProxyTracerProvider ? provider : undefined;
  }

  /**
   * No SDK is installed (yet): a call has no span to start, no context to extract or run inside
   * ({@link noSpan} stands for its span). Asked on every call, as an SDK may be installed later.
   */
  get isOff(): boolean {
    return this.#proxy !== undefined && this.#proxy.getDelegateTracer(tracerName) === undefined;
  }

  /**
   * Runs `run` (a hub method) inside the span of its call, and returns what it returned with the
   * span, which the caller ends (when the result settles, or when a stream ends). When `run`
   * throws, the span is ended here, marked failed.
   */
  invocation<T>(method: string, headers: Readonly<Record<string, string>> | undefined, run: () => T): { result: T; span: Span } {
    if (this.isOff) return { result: run(), span: noSpan };
    // A call's parent comes from its client, never from whatever context this turn runs in.
    const parent = headers === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, headers, headerGetter);
    const { name, attributes } = this.#ofMethod(method);
    const span = this.#tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
    try {
      // Without an SDK (or not sampled, with no parent to pass on), the span is nothing to run inside.
      if (!span.isRecording() && trace.getSpanContext(parent) === undefined) return { result: run(), span };
      return { result: context.with(trace.setSpan(parent, span), run), span };
    } catch (error) {
      // Thrown before there was anything to await: the caller never gets the span, so end it here.
      failed(span, error);
      span.end();
      throw error;
    }
  }

  /** Runs a connect or disconnect handler inside its span; what it throws or rejects with marks the span failed. */
  async lifecycle(method: "OnConnectedAsync" | "OnDisconnectedAsync", run: () => unknown): Promise<void> {
    const span = this.#tracer.startSpan(`${this.#hubName}/${method}`, { kind: SpanKind.INTERNAL, attributes: this.#attributes(method) });
    try {
      const result = context.with(trace.setSpan(context.active(), span), run);
      if (isPromiseLike(result)) await result;
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /**
   * Awaits a client result (the server calling a client method for its answer) inside a span of
   * kind CLIENT, `{hub}/{method}`, child of the active context (the hub method that asked).
   */
  async clientResult<T>(method: string, run: () => Promise<T>): Promise<T> {
    const span = this.#tracer.startSpan(`${this.#hubName}/${method}`, { kind: SpanKind.CLIENT, attributes: this.#attributes(method) });
    try {
      return await context.with(trace.setSpan(context.active(), span), run);
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  #attributes(method: string): Record<string, string> {
    return this.#ofMethod(method).attributes;
  }

  /** A method's span name and attributes, made once per method (the attributes are never changed by the API). */
  #ofMethod(method: string): { readonly name: string; readonly attributes: Readonly<Record<string, string>> } {
    let made = this.#methods.get(method);
    if (made === undefined) {
      // In .NET's order: rpc.method, rpc.system, rpc.service.
      made = { name: `${this.#hubName}/${method}`, attributes: Object.freeze({ "rpc.method": method, "rpc.system": "signalr", "rpc.service": this.#hubName }) };
      // Bounded by the hub's methods, plus OnConnectedAsync/OnDisconnectedAsync and client methods.
      if (this.#methods.size < 1_000) this.#methods.set(method, made);
    }
    return made;
  }
}

/**
 * Marks a span failed, as .NET's `SetActivityError` does: `error.type` and an error status.
 *
 * @example
 * ```ts
 * try { await run(); } catch (error) { failed(span, error); } finally { span.end(); }
 * ```
 */
export function failed(span: Span, error: unknown): void {
  span.setAttribute("error.type", error instanceof Error ? error.constructor.name : typeof error);
  span.setStatus({ code: SpanStatusCode.ERROR });
}
