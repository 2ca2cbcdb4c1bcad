/**
 * The raw ws peer: an echo, and a broadcast done two ways (--broadcast loop: `send` to each
 * client, which frames the message once per client; --broadcast frame-once: frame it once and
 * hand the same frame to every client's sender, as socket.io does for its broadcasts).
 * A text message starting with "B" is a broadcast request; anything else is echoed.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as ws from "ws";
import { WebSocket, WebSocketServer } from "ws";
import { argument, serveParent } from "../server-process.js";

/** ws's sender, which socket.io's engine.io also uses to write pre-framed broadcasts. */
interface FrameSender {
  sendFrame(frame: readonly Buffer[], cb?: (error?: Error) => void): void;
}
const { frame } = (ws as unknown as { Sender: { frame(data: Buffer, options: object): Buffer[] } }).Sender;

const frameOnce = argument("broadcast", "loop") === "frame-once";
const server = createServer((_request, response) => response.writeHead(404).end());
const sockets = new WebSocketServer({ server, path: "/ws" });

sockets.on("connection", (socket) => {
  socket.on("message", (data: Buffer, isBinary) => {
    if (isBinary || data[0] !== 0x42) {
      socket.send(data, { binary: isBinary });
      return;
    }
    const message = data.subarray(1);
    if (!frameOnce) {
      for (const client of sockets.clients) client.send(message, { binary: false });
      return;
    }
    const framed = frame(message, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false });
    for (const client of sockets.clients) {
      if (client.readyState === WebSocket.OPEN) (client as unknown as { _sender: FrameSender })._sender.sendFrame(framed);
    }
  });
});
server.listen(0, argument("host", "127.0.0.1"), () => {
  serveParent((server.address() as AddressInfo).port, async () => {
    sockets.close();
    server.closeAllConnections();
  });
});
