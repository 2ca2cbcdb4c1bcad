/**
 * Hub nodes on one Redis for routing tests (connection-forwarding, connection-relays): each on its
 * own port, named so that a call can tell where it ran, and a load balancer with no affinity in
 * front of them.
 */
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";
import { createHubServer, defineHub, type HubContract, type HubDefinition, HubError, type HubOptions, type HubServer, silentLogger } from "@hubwire/server";
import { Redis } from "ioredis";
import { expect } from "vitest";
import { type RedisLifetimeManager, redisLifetimeManager } from "../redis-lifetime-manager.js";

export interface Contract extends HubContract {
  server: {
    add(a: number, b: number): number;
    fail(): void;
    join(group: string): void;
    say(group: string, text: string): void;
    count(to: number): AsyncIterable<number>;
    whereAmI(): string;
    note(text: string): void;
    /** Sends its caller `receive` with "0" to `count - 1`, a pause every 20; returns `count`. */
    burst(count: number): number;
    /** Reads an upload slowly (5 ms an item): its sum. */
    slowSum(items: AsyncIterable<number>): number;
  };
  client: { receive(text: string): void };
}

/** What a test started, undone by {@link cleanUp} after it. */
export const cleanups: Array<() => unknown> = [];

/** Stops what the last test started, newest first; for `afterEach`. */
export async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  notes.length = 0;
}

export async function eventually(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What the in-process nodes' `note` method was called with, in order. */
export const notes: string[] = [];

export interface NodeOptions {
  /** A Redis of the test's own (default the machine's). */
  readonly redisPort?: number;
  /** Clients that never reconnect, so that killing them takes the node off the backplane for good. */
  readonly mortal?: boolean;
  /** The hub's options (stateful reconnect, for one). */
  readonly hubOptions?: HubOptions;
}

/** A hub node on its own port, over the shared Redis, named so that a call can tell where it ran. */
export async function startNode(
  name: string,
  prefix: string,
  options: NodeOptions = {},
): Promise<{ hubs: HubServer; hub: HubDefinition<Contract>; port: number; name: string; clients: Redis[]; manager: () => RedisLifetimeManager }> {
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
      note: (_ctx, text) => {
        notes.push(`${name} ${text}`);
      },
      burst: async (ctx, count) => {
        for (let i = 0; i < count; i++) {
          await ctx.clients.caller.receive(String(i));
          if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return count;
      },
      slowSum: {
        args: ["stream"],
        async handler(_ctx, items) {
          let sum = 0;
          for await (const item of items) {
            sum += item;
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          return sum;
        },
      },
    },
  });
  const redisOptions = {
    port: options.redisPort ?? 6379,
    host: "127.0.0.1",
    connectionName: `node-${name}`,
    ...(options.mortal ? { retryStrategy: () => null } : {}),
  };
  const clients = [new Redis(redisOptions), new Redis(redisOptions)];
  for (const client of clients) client.on("error", () => undefined);
  const managerFor = redisLifetimeManager({ publisher: clients[0]!, subscriber: clients[1]!, prefix, heartbeatIntervalMs: 100, publishTimeoutMs: 500 });
  let manager: RedisLifetimeManager | undefined;
  const hubs = createHubServer({
    hubs: { "/hub": hub },
    logger: silentLogger,
    // The access token, if any, is the user's id.
    authenticate: ({ accessToken }) => (accessToken === undefined ? undefined : { userId: accessToken }),
    ...(options.hubOptions === undefined ? {} : { hubOptions: options.hubOptions }),
    lifetimeManager: (hubName) => (manager = managerFor(hubName)),
  });
  const server: Server = createServer((_request, response) => response.writeHead(404).end());
  hubs.attach(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    await hubs.close({ drainTimeoutMs: 0 });
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    for (const client of clients) client.disconnect();
  });
  return { hubs, hub, port: (server.address() as AddressInfo).port, name, clients, manager: () => manager! };
}

/** The balancer in front of the nodes. */
export interface RoundRobin {
  readonly url: string;
  /** What each request was and the index of the node it went to (`upgrade 1`). */
  readonly served: string[];
  /** Cuts every WebSocket passing through, both ways, as a network that drops does. */
  cut(): void;
}

/**
 * A load balancer with no affinity: each request, and each WebSocket, goes to the next node in
 * turn. `served` says which node each request went to.
 */
export async function roundRobin(ports: readonly number[]): Promise<RoundRobin> {
  let next = 0;
  const served: string[] = [];
  const piped = new Set<Socket>();
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
    for (const end of [socket as Socket, upstream]) {
      piped.add(end);
      end.on("close", () => piped.delete(end));
    }
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
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    cut: () => {
      for (const end of piped) end.destroy();
    },
  };
}

/** Nodes named `names` on one prefix, each knowing the others are alive (their heartbeats) before a locate asks them. */
export async function startNodes(names: readonly string[], options: NodeOptions = {}) {
  const prefix = `routed-${Math.random()}`;
  const nodes = [];
  for (const name of names) nodes.push(await startNode(name, prefix, options));
  for (const node of nodes) {
    let seen = 0;
    for (const deadline = Date.now() + 5_000; seen < names.length && Date.now() < deadline; ) {
      seen = (await node.hubs.inspect(node.hub).nodes()).nodes.length;
      if (seen < names.length) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(seen, "nodes each node knows").toBe(names.length);
  }
  return nodes;
}

export function threeNodes(options: NodeOptions = {}) {
  return startNodes(["a", "b", "c"], options);
}
