import { HubConnectionBuilder, NullLogger } from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpgradeRefusingProxy } from "./test-helpers/http-proxy.js";
import { testHub } from "./test-helpers/test-hub.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

describe("transport fallback with the official client's default options", () => {
  let server: RunningServer;
  let proxy: Awaited<ReturnType<typeof startUpgradeRefusingProxy>>;
  beforeAll(async () => {
    server = await startServer({ hubs: { "/hub": testHub } });
    proxy = await startUpgradeRefusingProxy(server.port);
  });
  afterAll(async () => {
    await proxy.close();
    await server.close();
  });

  it("falls back to Server-Sent Events (JSON) when WebSocket upgrades are refused", async () => {
    const refusedBefore = proxy.refusedUpgrades();
    const connection = new HubConnectionBuilder().withUrl(`${proxy.origin}/hub`).configureLogging(NullLogger.instance).build();
    await connection.start();
    expect(proxy.refusedUpgrades()).toBeGreaterThan(refusedBefore);
    expect(await connection.invoke("echo", "through the fallback")).toBe("through the fallback");
    expect((connection as unknown as { connection: { transport: { constructor: { name: string } } } }).connection.transport.constructor.name).toBe(
      "ServerSentEventsTransport",
    );
    await connection.stop();
  });

  it("falls back to long polling (MessagePack skips SSE)", async () => {
    const connection = new HubConnectionBuilder()
      .withUrl(`${proxy.origin}/hub`)
      .withHubProtocol(new MessagePackHubProtocol())
      .configureLogging(NullLogger.instance)
      .build();
    await connection.start();
    expect(await connection.invoke("echo", 42)).toBe(42);
    expect((connection as unknown as { connection: { transport: { constructor: { name: string } } } }).connection.transport.constructor.name).toBe(
      "LongPollingTransport",
    );
    await connection.stop();
  });
});
