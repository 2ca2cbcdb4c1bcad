/**
 * The CPU one socket.io echo costs on the server, without sockets: a real socket.io server and one
 * real client connection, then decoded EVENT packets handed to the server-side socket directly
 * (`_onpacket`, what socket.io's `Client` calls for each decoded packet), answered by the bench
 * hub through `@hubwire/socket.io` or by a plain handler, with each acknowledgement encoded as
 * for the wire and dropped instead of written (`writeToEngine`). Where the machine's swings make
 * the `socketio-clients` scenario's figures move by as much as the gap it looks for, this counts
 * what the two paths themselves cost (both reach into socket.io internals, so it may need updating
 * with socket.io).
 *
 * @example
 * ```sh
 * node apps/bench/dist/socketio-in-process.js hub 1024   # or: plain 32
 * ```
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { createHubServer, defineHub, silentLogger } from "@hubwire/server";
import { serveHubs } from "@hubwire/socket.io";
import { Server, type Socket } from "socket.io";
import { io as connectClient } from "socket.io-client";
import { benchHub } from "./servers/bench-hub.js";

/** How the server answers: the bench hub through `@hubwire/socket.io`, or a plain socket.io handler. */
export type InProcessPath = "hub" | "plain";

/** socket.io's own hooks this reaches into (both private). */
interface SocketInternals {
  _onpacket(packet: { type: number; nsp: string; id: number; data: unknown[] }): void;
  client: { writeToEngine(encoded: unknown, options: unknown): void };
}

/** socket.io-parser's `PacketType.EVENT`. */
const eventPacket = 2;
/** Packets handed in per turn; a plain handler answers on the next tick, so each batch ends with one. */
const batch = 100;

/**
 * Nanoseconds of the process's CPU (user + system) per answered call, one figure per round, after
 * a warm-up; and how many acknowledgements were encoded in all.
 */
export async function measureInProcess(
  path: InProcessPath,
  payloadBytes: number,
  options: { readonly calls: number; readonly rounds: number },
): Promise<{ readonly nsPerCall: number[]; readonly answered: number; readonly handedIn: number }> {
  const hub = defineHub(benchHub);
  const server = createServer();
  const hubs = createHubServer({ hubs: { "/hub": hub }, logger: silentLogger }).attach(server);
  const io = new Server(server, { transports: ["websocket"], serveClient: false });
  if (path === "hub") serveHubs(io, hubs, { "/": hub });
  else io.on("connection", (socket) => socket.on("echo", (payload: string, ack: (payload: string) => void) => ack(payload)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = connectClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { transports: ["websocket"] });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once("connect", resolve);
      client.once("connect_error", reject);
    });
    // The server's side of that connection shows up once its namespace has admitted it.
    let socket: Socket | undefined;
    for (let wait = 0; socket === undefined && wait < 100; wait++) {
      socket = io.of("/").sockets.values().next().value;
      if (socket === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (socket === undefined) throw new Error("The client's socket never reached the server's namespace.");
    const internals = socket as unknown as SocketInternals;
    let answered = 0;
    internals.client.writeToEngine = () => {
      answered++;
    };
    // A fresh string per call, as socket.io's parser makes one from each packet.
    const payloadJson = JSON.stringify("x".repeat(payloadBytes));
    let nextId = 0;
    const run = async (calls: number) => {
      for (let done = 0; done < calls; done += batch) {
        for (let k = 0; k < batch; k++) internals._onpacket({ type: eventPacket, nsp: "/", id: nextId++, data: ["echo", JSON.parse(payloadJson)] });
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await run(options.calls / 2);
    const nsPerCall: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const [before, answeredBefore] = [process.cpuUsage(), answered];
      await run(options.calls);
      const cpu = process.cpuUsage(before);
      nsPerCall.push(((cpu.user + cpu.system) * 1000) / (answered - answeredBefore));
    }
    return { nsPerCall, answered, handedIn: nextId };
  } finally {
    client.disconnect();
    await hubs.close({ drainTimeoutMs: 0 });
    await io.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = process.argv[2] === "plain" ? "plain" : "hub";
  const payloadBytes = Number(process.argv[3] ?? 32);
  const { nsPerCall } = await measureInProcess(path, payloadBytes, { calls: 200_000, rounds: 5 });
  const sorted = [...nsPerCall].sort((a, b) => a - b);
  process.stdout.write(
    `${path}, ${payloadBytes} B: ${Math.round(sorted[Math.floor(sorted.length / 2)]!)} ns of CPU per call (median of ${sorted.length} rounds: ${nsPerCall.map(Math.round).join(", ")})\n`,
  );
  process.exit(0);
}
