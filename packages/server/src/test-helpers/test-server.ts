/** Starts a real HTTP server on 127.0.0.1 with hubs mounted, for the suites. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHubServer, type HubServer, type HubServerOptions } from "../index.js";

export interface RunningServer {
  readonly hubs: HubServer;
  readonly server: Server;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  close(): Promise<void>;
}

export async function startServer(options: HubServerOptions): Promise<RunningServer> {
  const hubs = createHubServer(options);
  const server = createServer((_request, response) => response.writeHead(404).end("not a hub"));
  hubs.attach(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    hubs,
    server,
    port,
    origin: `http://127.0.0.1:${port}`,
    async close() {
      await hubs.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
