/**
 * The backplane's spans: one PRODUCER span per publish, named and tagged by OpenTelemetry's
 * messaging conventions, failed when Redis cannot take the publish. SDK in-memory exporter, real
 * redis-server.
 */
import { MessageType } from "@hubwire/protocol";
import { RedisProcess } from "@hubwire/test-support";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackplaneError } from "./backplane-error.js";
import { RedisLifetimeManager } from "./redis-lifetime-manager.js";

describe("the backplane's spans", () => {
  let redis: RedisProcess;
  let manager: RedisLifetimeManager;
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  beforeAll(async () => {
    redis = await RedisProcess.start();
    manager = new RedisLifetimeManager({ redis: redis.url, hubName: "chat", prefix: "traced", tracerProvider, publishTimeoutMs: 500 });
  });
  afterAll(async () => {
    await manager.close();
    await redis.dispose();
  });

  it("makes a PRODUCER span per publish, and none for heartbeats", async () => {
    const deadline = Date.now() + 5_000;
    while (!manager.isHealthy && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    exporter.reset();
    await manager.send({ kind: "groups", groups: ["lobby"] }, { type: MessageType.Invocation, target: "receive", arguments: ["hello"] });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name)).toEqual([`publish ${manager.channels.group("lobby")}`]);
    const [span] = spans;
    expect(span!.kind).toBe(SpanKind.PRODUCER);
    expect(span!.instrumentationScope.name).toBe("@hubwire/redis");
    expect(span!.attributes).toMatchObject({
      "messaging.system": "redis",
      "messaging.operation.type": "send",
      "messaging.operation.name": "publish",
      "messaging.destination.name": manager.channels.group("lobby"),
    });
    expect(span!.attributes["messaging.message.body.size"]).toBeGreaterThan(0);
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("marks the span of a publish Redis could not take", async () => {
    redis.pause();
    try {
      exporter.reset();
      const error = await manager
        .send({ kind: "users", userIds: ["ada"] }, { type: MessageType.Invocation, target: "receive", arguments: ["lost?"] })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BackplaneError);
      const span = exporter.getFinishedSpans().find((finished) => finished.name === `publish ${manager.channels.user("ada")}`)!;
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.attributes["error.type"]).toBe("BackplaneError");
    } finally {
      redis.resume();
    }
  });
});
