import { normalizeMessage } from "@hubwire/test-support";
import { HttpTransportType, HubConnectionBuilder, NullLogger, Subject } from "@microsoft/signalr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { HubConnection } from "./index.js";
import { type CaptureServer, startCaptureServer } from "./test-helpers/capture-server.js";
import { eventually } from "./test-helpers/test-server.js";
import type { WebSocketConstructor } from "./transports/transport.js";

/**
 * The same scenario from both clients: invoke, send, a stream read to its end, an upload, a
 * client result, a cancelled stream, stop. Ids are numbered the same way by both.
 */
describe("our client's frames against the official client's", () => {
  let capture: CaptureServer;
  beforeAll(async () => {
    capture = await startCaptureServer();
  });
  afterAll(() => capture.close());

  async function runOfficial(): Promise<void> {
    const connection = new HubConnectionBuilder()
      .withUrl(capture.url, { transport: HttpTransportType.WebSockets, skipNegotiation: true })
      .configureLogging(NullLogger.instance)
      .build();
    connection.on("question", () => "a");
    await connection.start();
    await connection.invoke("add", 1, 2);
    await connection.send("toAll", "x");
    await new Promise<void>((resolve, reject) => connection.stream("counter", 2).subscribe({ next: () => undefined, complete: resolve, error: reject }));
    const upload = new Subject<number>();
    const sum = connection.invoke("sum", upload);
    upload.next(1);
    upload.next(2);
    upload.complete();
    await sum;
    await connection.send("askMe");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const subscription = connection.stream("endless").subscribe({ next: () => undefined, complete: () => undefined, error: () => undefined });
    subscription.dispose();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await connection.stop();
  }

  async function runOurs(): Promise<void> {
    type Contract = {
      server: {
        add(a: number, b: number): number;
        toAll(text: string): void;
        counter(count: number): AsyncIterable<number>;
        sum(numbers: AsyncIterable<number>): number;
        askMe(): void;
        endless(): AsyncIterable<number>;
      };
      client: { question(): string };
    };
    const connection = new HubConnection<Contract>(capture.url, {
      transports: ["WebSockets"],
      skipNegotiation: true,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    connection.on("question", () => "a");
    await connection.start();
    await connection.invoke("add", 1, 2);
    await connection.send("toAll", "x");
    for await (const _item of connection.stream("counter", 2));
    async function* upload() {
      yield 1;
      yield 2;
    }
    await connection.invoke("sum", upload());
    await connection.send("askMe");
    await new Promise((resolve) => setTimeout(resolve, 100));
    connection.stream("endless").cancel();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await connection.stop();
  }

  it("sends the same messages, in the same order, for every step", async () => {
    await runOfficial();
    await runOurs();
    await eventually(() => capture.sessions.length === 2);
    const [official, ours] = capture.sessions.map((records) => records.map((record) => normalizeMessage(record)));
    expect(official!.length).toBeGreaterThan(10);
    expect(ours).toEqual(official);
  });
});
