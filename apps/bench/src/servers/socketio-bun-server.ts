/**
 * The socket.io peer on Bun: the same socket.io server and events as on Node
 * (./socketio-events.ts), bound to `@socket.io/bun-engine`, socket.io's engine for `Bun.serve`.
 * Run by the bun binary.
 */
import { Server as Engine } from "@socket.io/bun-engine";
import { Server } from "socket.io";
import { argument, serveParent } from "../server-process.js";
import { serveOnBun } from "./bun-serve.js";
import { handleBenchEvents } from "./socketio-events.js";

const io = new Server({ serveClient: false });
const engine = new Engine({ path: "/socket.io/" });
io.bind(engine);
handleBenchEvents(io);

const { fetch, websocket } = engine.handler();
const server = serveOnBun({ port: 0, hostname: argument("host", "127.0.0.1"), fetch, websocket });
serveParent(server.port, async () => {
  await io.close();
  server.stop(true);
});
