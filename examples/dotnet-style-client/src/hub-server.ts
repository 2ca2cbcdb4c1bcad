/** Serves the chat hub at /chatHub on a plain node:http server, as the tutorial's app maps it. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createHubServer } from "@hubwire/server";
import { chatHub } from "./chat-hub.js";

export interface RunningHub {
  /** The hub's URL, e.g. `http://127.0.0.1:5000/chatHub`. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startHubServer(options: { readonly port?: number; readonly host?: string } = {}): Promise<RunningHub> {
  const hubs = createHubServer({ hubs: { "/chatHub": chatHub } });
  const server = createServer((_request, response) => response.writeHead(404).end());
  hubs.attach(server);
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 5000, host, () => (server.off("error", reject), resolve()));
  });
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/chatHub`,
    async close() {
      await hubs.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
