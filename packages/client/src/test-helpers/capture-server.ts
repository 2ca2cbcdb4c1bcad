/**
 * A minimal SignalR endpoint that records every record a client sends over a WebSocket (JSON),
 * and answers just enough to drive a scenario: a Completion for each invocation, two items and a
 * Completion for each stream, and a client-result call when asked. Both our client and the
 * official one talk to it, so their frames can be compared.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

export interface CaptureServer {
  readonly url: string;
  /** Every record received per connection, parsed, the handshake first. */
  readonly sessions: unknown[][];
  close(): Promise<void>;
}

export async function startCaptureServer(): Promise<CaptureServer> {
  const sessions: unknown[][] = [];
  const server: Server = createServer((_request, response) => response.writeHead(404).end());
  const wss = new WebSocketServer({ server });
  wss.on("connection", (socket) => {
    const records: unknown[] = [];
    sessions.push(records);
    const reply = (message: object) => socket.send(`${JSON.stringify(message)}\u001e`);
    socket.on("message", (data) => {
      for (const text of data.toString().split("\u001e").filter(Boolean)) {
        const message = JSON.parse(text) as { type?: number; invocationId?: string; target?: string; arguments?: unknown[] };
        records.push(message);
        if (message.type === undefined) reply({});
        else if (message.type === 1 && message.target === "askMe") reply({ type: 1, invocationId: "s0", target: "question", arguments: ["q"] });
        else if (message.type === 1 && message.invocationId !== undefined && message.target !== "sum") {
          reply({ type: 3, invocationId: message.invocationId, result: null });
        } else if (message.type === 3 && message.invocationId !== "s0") {
          // An upload ended: answer the invocation that opened it ("sum" was invocation "3").
          reply({ type: 3, invocationId: "3", result: 3 });
        } else if (message.type === 4 && message.target === "counter") {
          reply({ type: 2, invocationId: message.invocationId, item: 0 });
          reply({ type: 2, invocationId: message.invocationId, item: 1 });
          reply({ type: 3, invocationId: message.invocationId });
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hub`,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
      }),
  };
}
