/** This machine's ceiling: a plain TCP echo, no framing at all. */

import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { argument, serveParent } from "../server-process.js";

const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on("data", (chunk) => socket.write(chunk));
  socket.on("error", () => socket.destroy());
});
server.listen(0, argument("host", "127.0.0.1"), () => {
  serveParent((server.address() as AddressInfo).port, async () => {
    server.close();
  });
});
