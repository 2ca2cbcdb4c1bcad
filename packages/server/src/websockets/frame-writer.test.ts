import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { frameMessage, SINGLE_BUFFER_MAX_BYTES, writeFrame } from "./frame-writer.js";

describe("frameMessage", () => {
  it("writes RFC 6455 headers for each length class, FIN set, unmasked", () => {
    expect([...frameMessage(Buffer.from("hi"), false)]).toEqual([0x81, 2, 0x68, 0x69]);
    const medium = frameMessage(new Uint8Array(300), true);
    expect([...medium.subarray(0, 4)]).toEqual([0x82, 126, 0x01, 0x2c]);
    expect(medium.length).toBe(304);
    const large = frameMessage(new Uint8Array(70_000), true);
    expect([...large.subarray(0, 10)]).toEqual([0x82, 127, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70]);
  });
});

describe("writeFrame", () => {
  let received: Array<{ data: string; isBinary: boolean }>;
  let client: WebSocket;
  let serverSocket: WebSocket;
  const http = createServer();
  const sockets = new WebSocketServer({ server: http });
  beforeAll(async () => {
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const accepted = new Promise<WebSocket>((resolve) => sockets.once("connection", resolve));
    client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    received = [];
    client.on("message", (data: Buffer, isBinary) => received.push({ data: data.toString(), isBinary }));
    serverSocket = await accepted;
  });
  afterAll(async () => {
    client.terminate();
    sockets.close();
    await new Promise((resolve) => http.close(resolve));
  });

  it("delivers small and large messages, text and binary, in order, to a real ws client", async () => {
    const send = (data: Uint8Array, isBinary: boolean) => writeFrame(serverSocket, data, isBinary);
    const big = "b".repeat(SINGLE_BUFFER_MAX_BYTES + 1);
    send(Buffer.from("one"), false);
    send(Buffer.from("two"), true);
    send(Buffer.from(big), false);
    send(Buffer.from("x".repeat(70_000)), false);
    send(Buffer.from("last"), false);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => received.length === 5 && (clearInterval(check), resolve()), 5);
    });
    expect(received.map((message) => [message.data.length, message.isBinary])).toEqual([
      [3, false],
      [3, true],
      [big.length, false],
      [70_000, false],
      [4, false],
    ]);
    expect(received[0]!.data).toBe("one");
    expect(received[4]!.data).toBe("last");
  });
});
