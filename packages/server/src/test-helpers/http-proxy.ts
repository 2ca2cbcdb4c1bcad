/**
 * A reverse proxy for tests that forwards plain HTTP to a target and answers every WebSocket
 * upgrade with 400, as some corporate proxies do.
 */
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { rejectUpgrade } from "../websockets/upgrade-response.js";

export async function startUpgradeRefusingProxy(targetPort: number): Promise<{ origin: string; refusedUpgrades: () => number; close(): Promise<void> }> {
  let refused = 0;
  const server: Server = createServer((incoming, outgoing) => {
    const forward = httpRequest({ host: "127.0.0.1", port: targetPort, method: incoming.method, path: incoming.url, headers: incoming.headers }, (response) => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    });
    forward.on("error", () => outgoing.destroy());
    outgoing.on("close", () => forward.destroy());
    incoming.pipe(forward);
  });
  server.on("upgrade", (_request, socket) => {
    refused++;
    rejectUpgrade(socket, 400, "WebSockets are not allowed through this proxy.");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    refusedUpgrades: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
