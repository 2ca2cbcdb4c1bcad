import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { systems } from "../systems.js";
import { ForkedServer } from "./forked-server.js";

const RS = "\u001e";

// The floor for a JSON hub as the bench runs it: the built script in its own process, driven
// over real sockets on 127.0.0.1 by the load generator's own SignalR JSON wire.
describe("raw ws + JSON.parse (floor)", () => {
  let server: ForkedServer;

  beforeAll(async () => {
    server = await ForkedServer.start(systems.wsJsonRpc);
  });

  afterAll(async () => {
    await server?.stop();
  });

  /** The records the server sends in answer to `frames`, sent one after the other after the handshake. */
  async function exchange(frames: readonly string[], expected: number): Promise<string[]> {
    const socket = new WebSocket(`ws://127.0.0.1:${server.url.port}/hub`);
    const records: string[] = [];
    socket.on("message", (data: Buffer) =>
      records.push(
        ...data
          .toString()
          .split(RS)
          .filter((record) => record !== ""),
      ),
    );
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    socket.send(`{"protocol":"json","version":1}${RS}`);
    for (const frame of frames) socket.send(frame);
    await expect.poll(() => records.length).toBe(expected + 1);
    socket.close();
    return records;
  }

  it("answers the handshake, then each echo with a Completion of the payload, escaped as JSON.stringify would", async () => {
    const records = await exchange(
      [
        `{"type":1,"invocationId":"7","target":"echo","arguments":["hi"]}${RS}{"type":6}${RS}`,
        `{"type":1,"invocationId":"8","target":"echo","arguments":["a \\"quote\\"\\n"]}${RS}`,
      ],
      2,
    );
    expect(records).toEqual(["{}", `{"type":3,"invocationId":"7","result":"hi"}`, `{"type":3,"invocationId":"8","result":${JSON.stringify('a "quote"\n')}}`]);
  });

  it("sends a SignalR Close naming what it does not answer, then closes the connection", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.url.port}/hub`);
    const closed = new Promise<number>((resolve) => socket.once("close", resolve));
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    socket.send(`{"protocol":"json","version":1}${RS}{"type":1,"invocationId":"1","target":"join","arguments":["g"]}${RS}`);
    expect(await closed).toBe(1000);
  });

  it("closes with a SignalR Close naming what it does not answer, rather than staying silent", async () => {
    const [, close] = await exchange([`{"type":1,"invocationId":"1","target":"join","arguments":["g"]}${RS}`], 1);
    expect(JSON.parse(close!)).toEqual({ type: 7, error: expect.stringContaining('"target":"join"') });
    const [, notJson] = await exchange([`{"type":1,${RS}`], 1);
    expect(JSON.parse(notJson!)).toEqual({ type: 7, error: expect.stringContaining('{"type":1,') });
  });

  it("echoes the load generator's SignalR JSON calls, every slot answered", async () => {
    expect(await server.echoThroughWire(4)).toEqual({ replies: [0, 1, 2, 3], failures: [] });
  });
});
