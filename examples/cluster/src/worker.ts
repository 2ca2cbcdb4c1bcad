/** One worker: the hub on the shared port, over the Redis backplane. */
import { createServer } from "node:http";
import { redisLifetimeManager } from "@hubwire/redis";
import { createHubServer } from "@hubwire/server";
import { counterHub } from "./counter-hub.js";

/**
 * Starts the hub in this process on `port` (in a cluster worker, the port the primary shares).
 *
 * @example
 * ```ts
 * const stop = await startWorker({ port: 3000, redisUrl: "redis://127.0.0.1:6379" });
 * await stop();
 * ```
 */
export async function startWorker(options: { readonly port: number; readonly redisUrl: string; readonly prefix?: string }): Promise<() => Promise<void>> {
  const hubs = createHubServer({
    hubs: { "/counter": counterHub },
    lifetimeManager: redisLifetimeManager({ redis: options.redisUrl, prefix: options.prefix ?? "hubwire-cluster-example" }),
  });
  const server = createServer((_request, response) => response.writeHead(404).end("Not found"));
  hubs.attach(server);
  await new Promise<void>((resolve) => server.listen(options.port, resolve));
  return async () => {
    await hubs.close({ drainTimeoutMs: 2_000 });
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
}
