/**
 * An in-process TCP fault proxy on 127.0.0.1, for fault tests between a client and a server or a
 * server and Redis. It passes bytes both ways and can, at any moment:
 * - `cut()`: reset every connection (both sockets destroyed, as a network drop does);
 * - `setFault(...)`: delay each chunk, throttle to a byte rate, blackhole (keep the sockets and
 *   move no bytes: a half-open peer), or cut a connection after N more bytes;
 * - `halfClose()`: end the client-bound direction only (FIN), keeping the other open;
 * - `retarget(port)`: send new connections elsewhere (a load balancer moving to another node).
 */

import type { AddressInfo } from "node:net";
import { connect, createServer, type Socket } from "node:net";

export type ProxyFault =
  | { readonly kind: "pass" }
  | { readonly kind: "delay"; readonly ms: number }
  | { readonly kind: "throttle"; readonly bytesPerSecond: number }
  | { readonly kind: "blackhole" }
  | { readonly kind: "cutAfter"; readonly bytes: number };

export interface TcpProxy {
  readonly port: number;
  /** Connections opened through the proxy so far. */
  readonly connectionCount: number;
  /** Connections open through the proxy now. */
  readonly openCount: number;
  /** Resets every open connection, both sides. */
  cut(): void;
  /** Applies to every open and future connection, both directions, until changed. */
  setFault(fault: ProxyFault): void;
  /** Ends the direction towards the clients (they read EOF); the other direction stays open. */
  halfClose(): void;
  /** New connections go to this port from now on. */
  retarget(port: number): void;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let opened = 0;
  let target = targetPort;
  let fault: ProxyFault = { kind: "pass" };
  let budget = Number.POSITIVE_INFINITY;

  const forward = (pair: Pair, from: Socket, to: Socket) => {
    // A promise chain per direction keeps chunks in order whatever the fault delays.
    let chain = Promise.resolve();
    from.on("data", (chunk: Buffer) => {
      chain = chain.then(async () => {
        const now = fault;
        if (now.kind === "blackhole") return;
        if (now.kind === "delay") await new Promise((resolve) => setTimeout(resolve, now.ms));
        if (now.kind === "throttle") await new Promise((resolve) => setTimeout(resolve, (chunk.length / now.bytesPerSecond) * 1000));
        if (now.kind === "cutAfter") {
          if (chunk.length >= budget) {
            to.write(chunk.subarray(0, budget));
            budget = 0;
            pair.client.resetAndDestroy();
            pair.upstream.resetAndDestroy();
            return;
          }
          budget -= chunk.length;
        }
        if (!to.destroyed) to.write(chunk);
      });
    });
  };

  const server = createServer((client) => {
    const upstream = connect(target, "127.0.0.1");
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    opened++;
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    forward(pair, client, upstream);
    forward(pair, upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const cut = () => {
    for (const { client, upstream } of pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    pairs.clear();
  };
  return {
    port: (server.address() as AddressInfo).port,
    get connectionCount() {
      return opened;
    },
    get openCount() {
      return pairs.size;
    },
    cut,
    setFault(next) {
      fault = next;
      if (next.kind === "cutAfter") budget = next.bytes;
    },
    halfClose() {
      for (const { client } of pairs) client.end();
    },
    retarget(port) {
      target = port;
    },
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
