/**
 * Tracing end to end: a Hubwire server with OpenTelemetry's SDK (in-memory exporter) and this
 * client sending its active trace context with each call (the `invocationHeaders` option), over
 * every transport. The server's spans must be named, kinded, tagged and parented as ASP.NET Core
 * 9's SignalR server makes its activities (`Microsoft.AspNetCore.SignalR.Server`).
 */

import { defineHub, type HubContract, HubError } from "@hubwire/server";
import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { HubConnection, type TransportName } from "./index.js";
import { MessagePackHubProtocol } from "./msgpack.js";
import { eventually, startTestServer, type TestServer } from "./test-helpers/test-server.js";

interface Traced extends HubContract {
  server: {
    work(label: string): string;
    fail(): void;
    count(n: number): AsyncIterable<number>;
    ask(question: string): string;
  };
  client: { question(text: string): string };
}

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const clientTracer = provider.getTracer("the app");
const serverOnly = (span: ReadableSpan) => span.instrumentationScope.name === "Microsoft.AspNetCore.SignalR.Server";

const tracedHubNamed = (name: string) =>
  defineHub<Traced>({
    name,
    methods: {
      work(_ctx, label) {
        // A span the method starts is a child of its call's span.
        clientTracer.startActiveSpan(`inside ${label}`, (span) => span.end());
        return label;
      },
      fail() {
        throw new HubError("refused");
      },
      async *count(_ctx, n) {
        for (let i = 0; i < n; i++) yield i;
      },
      ask: (ctx, question) => ctx.clients.caller.invoke.question(question),
    },
  });
const tracedHub = tracedHubNamed("TracedHub");

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  context.disable();
  propagation.disable();
});

const cases: Array<{ transport: TransportName; protocol: "json" | "messagepack" }> = [
  { transport: "WebSockets", protocol: "json" },
  { transport: "WebSockets", protocol: "messagepack" },
  { transport: "ServerSentEvents", protocol: "json" },
  { transport: "LongPolling", protocol: "json" },
];

describe.each(cases)("spans of calls over $transport ($protocol)", ({ transport, protocol }) => {
  let server: TestServer;
  let connection: HubConnection<Traced>;
  beforeAll(async () => {
    server = await startTestServer({ hubs: { "/hub": tracedHub }, tracerProvider: provider });
    connection = new HubConnection<Traced>(server.url, {
      transports: [transport],
      WebSocket,
      ...(protocol === "messagepack" ? { protocol: new MessagePackHubProtocol() } : {}),
      invocationHeaders: () => {
        const carrier: Record<string, string> = {};
        propagation.inject(context.active(), carrier);
        return carrier;
      },
    });
    connection.on("question", (text) => `${text}? yes`);
    await connection.start();
  });
  afterAll(async () => {
    await connection.stop();
    await server.close();
  });
  afterEach(() => exporter.reset());

  it("makes a SERVER span per call, parented on the client's span, tagged as .NET tags it, with the method's spans inside", async () => {
    const parent = clientTracer.startSpan("client call");
    const result = await context.with(trace.setSpan(context.active(), parent), () => connection.invoke("work", "a"));
    parent.end();
    expect(result).toBe("a");
    await eventually(() => exporter.getFinishedSpans().some((span) => span.name === "TracedHub/work"), 3_000, "the call's span");
    const spans = exporter.getFinishedSpans();
    const call = spans.find((span) => span.name === "TracedHub/work")!;
    expect(serverOnly(call)).toBe(true);
    expect(call.kind).toBe(SpanKind.SERVER);
    expect(call.attributes).toEqual({ "rpc.method": "work", "rpc.system": "signalr", "rpc.service": "TracedHub" });
    expect(call.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(call.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(call.status.code).toBe(SpanStatusCode.UNSET);
    const inside = spans.find((span) => span.name === "inside a")!;
    expect(inside.parentSpanContext?.spanId).toBe(call.spanContext().spanId);
  });

  it("makes a root span for a call with no trace context, and marks a failed call", async () => {
    await expect(connection.invoke("fail")).rejects.toThrow("refused");
    await eventually(() => exporter.getFinishedSpans().some((span) => span.name === "TracedHub/fail"), 3_000, "the failed call's span");
    const failed = exporter.getFinishedSpans().find((span) => span.name === "TracedHub/fail")!;
    expect(failed.parentSpanContext).toBeUndefined();
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes["error.type"]).toBe("HubError");
  });

  it("makes a CLIENT span for a client result, inside the span of the call that asked", async () => {
    expect(await connection.invoke("ask", "ready")).toBe("ready? yes");
    await eventually(() => exporter.getFinishedSpans().some((span) => span.name === "TracedHub/ask"), 3_000, "the asking call's span");
    const spans = exporter.getFinishedSpans();
    const asking = spans.find((span) => span.name === "TracedHub/ask")!;
    const result = spans.find((span) => span.name === "TracedHub/question")!;
    expect(result.kind).toBe(SpanKind.CLIENT);
    expect(result.attributes).toEqual({ "rpc.method": "question", "rpc.system": "signalr", "rpc.service": "TracedHub" });
    expect(result.parentSpanContext?.spanId).toBe(asking.spanContext().spanId);
  });

  it("ends a stream's span with its last item", async () => {
    const items: number[] = [];
    for await (const item of connection.stream("count", 3)) items.push(item);
    expect(items).toEqual([0, 1, 2]);
    await eventually(() => exporter.getFinishedSpans().some((span) => span.name === "TracedHub/count"), 3_000, "the stream's span");
  });
});

describe("spans of a connection's life", () => {
  it("makes INTERNAL OnConnectedAsync and OnDisconnectedAsync spans", async () => {
    // A hub of its own name: the suites above may still be ending their connections.
    const server = await startTestServer({ hubs: { "/hub": tracedHubNamed("LifeHub") }, tracerProvider: provider });
    try {
      const connection = new HubConnection<Traced>(server.url, { transports: ["WebSockets"], WebSocket });
      await connection.start();
      await connection.stop();
      await eventually(() => exporter.getFinishedSpans().some((span) => span.name === "LifeHub/OnDisconnectedAsync"), 3_000, "the disconnect span");
      const lifecycle = exporter.getFinishedSpans().filter((span) => serverOnly(span) && span.name.startsWith("LifeHub/"));
      expect(lifecycle.map((span) => [span.name, span.kind])).toEqual([
        ["LifeHub/OnConnectedAsync", SpanKind.INTERNAL],
        ["LifeHub/OnDisconnectedAsync", SpanKind.INTERNAL],
      ]);
      expect(lifecycle[0]!.attributes).toEqual({ "rpc.method": "OnConnectedAsync", "rpc.system": "signalr", "rpc.service": "LifeHub" });
    } finally {
      exporter.reset();
      await server.close();
    }
  });
});

describe("spans through the global provider", () => {
  it("makes no span while no SDK is installed, and spans once one is, on the same running server", async () => {
    // No tracerProvider: the server reads OpenTelemetry's global one, which has nothing behind it yet.
    const server = await startTestServer({ hubs: { "/hub": tracedHubNamed("GlobalHub") } });
    const connection = new HubConnection<Traced>(server.url, { transports: ["WebSockets"], WebSocket });
    try {
      await connection.start();
      expect(await connection.invoke("work", "before")).toBe("before");
      expect(exporter.getFinishedSpans().filter((span) => span.name === "GlobalHub/work")).toEqual([]);
      trace.setGlobalTracerProvider(provider);
      expect(await connection.invoke("work", "after")).toBe("after");
      await eventually(() => exporter.getFinishedSpans().some((span) => span.name === "GlobalHub/work"), 3_000, "the call's span");
      const call = exporter.getFinishedSpans().find((span) => span.name === "GlobalHub/work")!;
      expect(call.kind).toBe(SpanKind.SERVER);
      const inside = exporter.getFinishedSpans().find((span) => span.name === "inside after")!;
      expect(inside.parentSpanContext?.spanId).toBe(call.spanContext().spanId);
    } finally {
      trace.disable();
      exporter.reset();
      await connection.stop();
      await server.close();
    }
  });
});
