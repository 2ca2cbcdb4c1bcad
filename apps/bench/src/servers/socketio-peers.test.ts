import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { socketIo } from "../load/codecs.js";
import type { ChildReport, ParentRequest } from "../server-process.js";
import { systems } from "../systems.js";

// The socket.io-clients scenario drives both servers with the bench's own socket.io frames (so
// that the load process stays cheaper than the servers it measures); these tests hold those
// frames to what socket.io-client 4.8 sends, and both servers to the same answers for it.
describe.each([systems.hubwireViaSocketIo, systems.socketIo])("$name, to socket.io-client 4.8", (system) => {
  let server: ChildProcess;
  let url: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    server = fork(fileURLToPath(new URL(`../../dist/servers/${system.server.script}.js`, import.meta.url)), [...system.server.args], { execArgv: [] });
    const port = await new Promise<number>((resolve, reject) => {
      server.once("message", (report: ChildReport) => (report.type === "ready" ? resolve(report.port) : reject(new Error("Unexpected report."))));
      server.once("exit", (code) => reject(new Error(`${system.server.script} exited with ${code} before listening.`)));
    });
    url = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.send({ type: "stop" } satisfies ParentRequest);
    await exited;
  });

  async function connect(): Promise<Socket> {
    const socket = io(url, { transports: ["websocket"], reconnection: false });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
    return socket;
  }

  it("acknowledges emitWithAck('echo', payload) with the payload, sent as the bench's echo frame", async () => {
    const socket = await connect();
    const sent: unknown[] = [];
    socket.io.engine.on("packetCreate", (packet: { type: string; data?: unknown }) => {
      // On the wire an engine.io message is "4" and its data.
      if (packet.type === "message") sent.push(`4${packet.data}`);
    });
    await expect(socket.emitWithAck("echo", "x".repeat(32))).resolves.toBe("x".repeat(32));
    expect(sent).toEqual([socketIo.echo(0, "x".repeat(32)).toString()]);
  });

  it("sends one 'broadcast' to every connected client as 'message', asked for with the bench's broadcast frame", async () => {
    const [asker, other] = [await connect(), await connect()];
    const received = [asker, other].map((socket) => new Promise((resolve) => socket.once("message", resolve)));
    const sent: unknown[] = [];
    asker.io.engine.on("packetCreate", (packet: { type: string; data?: unknown }) => {
      if (packet.type === "message") sent.push(`4${packet.data}`);
    });
    asker.emit("broadcast", "hello");
    await expect(Promise.all(received)).resolves.toEqual(["hello", "hello"]);
    expect(sent).toEqual([socketIo.broadcast("hello").toString()]);
  });
});
