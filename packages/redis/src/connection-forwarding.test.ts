import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { createHubServer, defineHub, type HubContract, type HubDefinition, HubError, type HubServer, silentLogger } from "@hubwire/server";
import * as signalR from "@microsoft/signalr";
import { afterEach, describe, expect, it } from "vitest";
import { redisLifetimeManager } from "./redis-lifetime-manager.js";

interface Contract extends HubContract {
  server: {
    add(a: number, b: number): number;
    fail(): void;
    join(group: string): void;
    say(group: string, text: string): void;
    count(to: number): AsyncIterable<number>;
    whereAmI(): string;
  };
  client: { receive(text: string): void };
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function eventually(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A hub node on its own port, over the shared Redis, named so that a call can tell where it ran. */
async function startNode(name: string, prefix: string): Promise<{ hubs: HubServer; hub: HubDefinition<Contract>; port: number; name: string }> {
  const hub = defineHub<Contract>({
    methods: {
      add: (_ctx, a, b) => a + b,
      fail: () => {
        throw new HubError("refused here");
      },
      join: (ctx, group) => ctx.groups.add(ctx.connectionId, group),
      say: (ctx, group, text) => ctx.clients.group(group).receive(text),
      count: async function* (_ctx, to) {
        for (let i = 1; i <= to; i++) yield i;
      },
      whereAmI: () => name,
    },
  });
  const hubs = createHubServer({
    hubs: { "/hub": hub },
    logger: silentLogger,
    lifetimeManager: redisLifetimeManager({ redis: "redis://127.0.0.1:6379", prefix, heartbeatIntervalMs: 100 }),
  });
  const server: Server = createServer((_request, response) => response.writeHead(404).end());
  hubs.attach(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    await hubs.close({ drainTimeoutMs: 0 });
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { hubs, hub, port: (server.address() as AddressInfo).port, name };
}

/**
 * A load balancer with no affinity: each request, and each WebSocket, goes to the next node in
 * turn. `served` says which node each request went to.
 */
async function roundRobin(ports: readonly number[]): Promise<{ url: string; served: string[] }> {
  let next = 0;
  const served: string[] = [];
  const pick = (what: string) => {
    const port = ports[next++ % ports.length]!;
    served.push(`${what} ${ports.indexOf(port)}`);
    return port;
  };
  const server = createServer((incoming, outgoing) => {
    const port = pick(`${incoming.method} ${incoming.url?.split("?")[0]}`);
    const forward = httpRequest({ host: "127.0.0.1", port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (response) => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    });
    forward.on("error", () => outgoing.destroy());
    outgoing.on("close", () => forward.destroy());
    incoming.pipe(forward);
  });
  server.on("upgrade", (request, socket, head) => {
    const port = pick("upgrade");
    const upstream = connect(port, "127.0.0.1", () => {
      const lines = [`${request.method} ${request.url} HTTP/1.1`];
      for (let i = 0; i < request.rawHeaders.length; i += 2) lines.push(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, served };
}

async function threeNodes() {
  const prefix = `forwarding-${Math.random()}`;
  const nodes = [await startNode("a", prefix), await startNode("b", prefix), await startNode("c", prefix)];
  // Each node must know the others are alive (their heartbeats) before a locate asks them.
  for (const node of nodes) {
    let seen = 0;
    for (const deadline = Date.now() + 5_000; seen < 3 && Date.now() < deadline; ) {
      seen = (await node.hubs.inspect(node.hub).nodes()).nodes.length;
      if (seen < 3) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(seen, "nodes each node knows").toBe(3);
  }
  return nodes;
}

const transports = [
  ["LongPolling", signalR.HttpTransportType.LongPolling],
  ["ServerSentEvents", signalR.HttpTransportType.ServerSentEvents],
  ["WebSockets (negotiated)", signalR.HttpTransportType.WebSockets],
] as const;

describe("any node serves any request, behind a balancer with no affinity", () => {
  for (const [name, transport] of transports) {
    it(`runs calls, errors, groups and streams over ${name} with every request on the next node`, async () => {
      const nodes = await threeNodes();
      const balancer = await roundRobin(nodes.map((node) => node.port));
      const open = async () => {
        const connection = new signalR.HubConnectionBuilder().withUrl(`${balancer.url}/hub`, { transport }).configureLogging(signalR.LogLevel.None).build();
        cleanups.push(() => connection.stop());
        await connection.start();
        return connection;
      };
      const first = await open();
      const second = await open();
      const received: string[] = [];
      first.on("receive", (text: string) => received.push(`first ${text}`));
      second.on("receive", (text: string) => received.push(`second ${text}`));
      expect(await first.invoke("add", 2, 3)).toBe(5);
      await expect(first.invoke("fail")).rejects.toThrow("HubException: refused here");
      await first.invoke("join", "room");
      await second.invoke("join", "room");
      for (let i = 0; i < 20; i++) await first.invoke("say", "room", String(i));
      const items: number[] = [];
      await new Promise<void>((resolve, reject) =>
        first.stream("count", 5).subscribe({ next: (item: number) => items.push(item), complete: resolve, error: reject }),
      );
      expect(items).toEqual([1, 2, 3, 4, 5]);
      await eventually(() => received.length === 40, "both clients to get all twenty messages");
      const numbered = (who: string) => received.filter((line) => line.startsWith(who)).map((line) => line.split(" ")[1]);
      expect(numbered("first")).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
      expect(numbered("second")).toEqual(numbered("first"));
      // The negotiate and the transport requests of one connection landed on different nodes.
      expect(new Set(balancer.served.map((line) => line.split(" ").at(-1))).size).toBe(3);
      await first.stop();
      await second.stop();
    }, 30_000);
  }

  it("answers 404 for a token no node holds, without waiting out a timeout", async () => {
    const nodes = await threeNodes();
    const started = Date.now();
    const response = await fetch(`http://127.0.0.1:${nodes[0]!.port}/hub?id=not-a-token`);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe("No Connection with that ID");
    // Every live node answered "not here": no locate timeout (2 s) was waited.
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});
