/** A Hubwire server with the test contract's hub, on 127.0.0.1, for the client suites. */

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHubServer, defineHub, HubError, type HubServerOptions } from "@hubwire/server";
import type { TestContract } from "./contract.js";

export const testHub = defineHub<TestContract>({
  methods: {
    echo: (_ctx, value) => value,
    large: (_ctx, length) => "x".repeat(length),
    add: (_ctx, a, b) => a + b,
    nothing: () => undefined,
    fail(_ctx, message) {
      throw new HubError(message);
    },
    join: (ctx, group) => ctx.groups.add(ctx.connectionId, group),
    toGroup: (ctx, group, text) => ctx.clients.group(group).receive(text),
    toAll: (ctx, text) => ctx.clients.all.receive(text),
    toOthers: (ctx, text) => ctx.clients.others.receive(text),
    async *counter(ctx, count, delayMs) {
      for (let i = 0; i < count && !ctx.signal.aborted; i++) {
        yield i;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    },
    async *failingCounter(_ctx, count) {
      for (let i = 0; i < count; i++) yield i;
      throw new HubError("stream broke");
    },
    sum: {
      args: ["stream"],
      async handler(_ctx, numbers) {
        let total = 0;
        for await (const value of numbers) total += value;
        return total;
      },
    },
    ask: (ctx, question) => ctx.clients.caller.invoke.question(question),
    whoAmI: (ctx) => ctx.connectionId,
    closeMe(ctx, allowReconnect) {
      setTimeout(() => ctx.close({ error: "Closed by the test.", allowReconnect }), 20);
    },
    async pushNumbers(ctx, count) {
      for (let i = 1; i <= count; i++) {
        await ctx.clients.caller.numbered(i);
        if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return count;
    },
    take(ctx, value) {
      const taken = (ctx.items.get("taken") as number[] | undefined) ?? [];
      taken.push(value);
      ctx.items.set("taken", taken);
    },
    taken: (ctx) => (ctx.items.get("taken") as number[] | undefined) ?? [],
  },
});

export interface TestServer {
  readonly port: number;
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startTestServer(options: Partial<HubServerOptions> = {}, port = 0): Promise<TestServer> {
  const hubs = createHubServer({ hubs: { "/hub": testHub }, ...options });
  const server = createServer((_request, response) => response.writeHead(404).end());
  hubs.attach(server);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}/hub`,
    server,
    async close() {
      await hubs.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function eventually(predicate: () => boolean, timeoutMs = 5_000, what = "a condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
