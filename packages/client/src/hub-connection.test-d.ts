import type { HubContract } from "@hubwire/protocol";
import { describe, expectTypeOf, it } from "vitest";
import { WebSocket } from "ws";
import { HubConnection, type HubStream } from "./index.js";

interface Chat extends HubContract {
  server: {
    send(room: string, text: string): void;
    add(a: number, b: number): number;
    history(room: string): AsyncIterable<string>;
    upload(name: string, chunks: AsyncIterable<Uint8Array>): number;
  };
  client: {
    receive(user: string, text: string): void;
    confirm(question: string): boolean;
  };
}

declare const connection: HubConnection<Chat>;

describe("HubConnection types", () => {
  it("infers results, arguments and stream items from the contract", () => {
    expectTypeOf(connection.invoke("add", 1, 2)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(connection.invoke("send", "lobby", "hi")).toEqualTypeOf<Promise<void>>();
    expectTypeOf(connection.send("send", "lobby", "hi")).toEqualTypeOf<Promise<void>>();
    expectTypeOf(connection.stream("history", "lobby")).toEqualTypeOf<HubStream<string>>();
    async function* chunks() {
      yield new Uint8Array(1);
    }
    expectTypeOf(connection.invoke("upload", "file", chunks())).toEqualTypeOf<Promise<number>>();
  });

  it("types handlers, including client results", () => {
    connection.on("receive", (user, text) => {
      expectTypeOf(user).toEqualTypeOf<string>();
      expectTypeOf(text).toEqualTypeOf<string>();
    });
    connection.on("confirm", async (question) => question.length > 0);
    // @ts-expect-error: a client result of the wrong type
    connection.on("confirm", () => "yes");
    // @ts-expect-error: no such client method
    connection.on("recieve", () => undefined);
  });

  it("refuses wrong method names, arguments and result types", () => {
    // @ts-expect-error: no such server method
    void connection.invoke("substract", 1, 2);
    // @ts-expect-error: wrong argument type
    void connection.invoke("add", "1", 2);
    // @ts-expect-error: missing argument
    void connection.invoke("add", 1);
    // @ts-expect-error: a stream is not invoked
    void connection.invoke("history", "lobby");
    // @ts-expect-error: a single result is not streamed
    void connection.stream("add", 1, 2);
    // @ts-expect-error: the result is a number, not a string
    const wrong: Promise<string> = connection.invoke("add", 1, 2);
    void wrong;
  });

  it("takes ws's WebSocket class, and the DOM's, as the WebSocket option without a cast", () => {
    void new HubConnection<Chat>("/chat", { WebSocket });
    void new HubConnection<Chat>("/chat", { WebSocket: globalThis.WebSocket });
    // @ts-expect-error: not a WebSocket class
    void new HubConnection<Chat>("/chat", { WebSocket: Map });
  });
});
