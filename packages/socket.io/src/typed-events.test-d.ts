import type { HubContract } from "@hubwire/protocol";
import type { Socket } from "socket.io-client";
import { describe, expectTypeOf, it } from "vitest";
import type { CallError } from "./call-answers.js";
import type { ClientEvents, ServerEvents } from "./typed-events.js";

interface Contract extends HubContract {
  server: {
    add(a: number, b: number): number;
    send(room: string, text: string): void;
    history(room: string): AsyncIterable<string>;
    load(id: string): Promise<{ name: string }>;
  };
  client: {
    receive(from: string, text: string): void;
    confirm(question: string): boolean;
  };
}

declare const socket: Socket<ClientEvents<Contract>, ServerEvents<Contract>>;

describe("socket.io-client typed from a hub contract", () => {
  it("types calls and their answers", () => {
    expectTypeOf(socket.emitWithAck("add", 1, 2)).toEqualTypeOf<Promise<number | CallError>>();
    expectTypeOf(socket.emitWithAck("load", "id")).toEqualTypeOf<Promise<{ name: string } | CallError>>();
    socket.emit("add", 1, 2, (answer) => expectTypeOf(answer).toEqualTypeOf<number | CallError>());
    // A method without a result may be sent without an acknowledgement.
    socket.emit("send", "room", "text");
    // @ts-expect-error: wrong argument type
    socket.emitWithAck("add", "1", 2);
    // @ts-expect-error: not a hub method
    socket.emitWithAck("nope");
    // @ts-expect-error: streaming methods are not events (socket.io has no streams)
    socket.emit("history", "room", () => undefined);
  });

  it("types client methods and client results", () => {
    socket.on("receive", (from, text) => {
      expectTypeOf(from).toEqualTypeOf<string>();
      expectTypeOf(text).toEqualTypeOf<string>();
    });
    socket.on("confirm", (question, ack) => {
      expectTypeOf(question).toEqualTypeOf<string>();
      ack(true);
      ack({ error: "refused" });
      // @ts-expect-error: the result is a boolean
      ack("yes");
    });
    socket.on("hubwire:close", (details) => expectTypeOf(details.error).toEqualTypeOf<string | undefined>());
  });
});
