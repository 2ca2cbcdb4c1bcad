import type { HubContract } from "@hubwire/protocol";
import { describe, expectTypeOf, it } from "vitest";
import { createHubServer, defineHub, type HubCallContext } from "./index.js";

interface Chat extends HubContract {
  server: {
    send(room: string, text: string): void;
    add(a: number, b: number): number;
    history(room: string): AsyncIterable<string>;
  };
  client: {
    receive(user: string, text: string): void;
    confirm(question: string): boolean;
  };
}

describe("defineHub types", () => {
  it("types each method's context, arguments and result from the contract", () => {
    defineHub<Chat>({
      methods: {
        send(ctx, room, text) {
          expectTypeOf(ctx).toEqualTypeOf<HubCallContext<Chat>>();
          expectTypeOf(room).toEqualTypeOf<string>();
          expectTypeOf(text).toEqualTypeOf<string>();
        },
        add: (_ctx, a, b) => a + b,
        async *history(_ctx, room) {
          yield room;
        },
      },
    });
  });

  it("types client calls on every target, and client results", () => {
    defineHub<Chat>({
      methods: {
        async send(ctx, room, text) {
          expectTypeOf(ctx.clients.all.receive).parameters.toEqualTypeOf<[user: string, text: string]>();
          expectTypeOf(ctx.clients.group(room).receive("a", text)).toEqualTypeOf<Promise<void>>();
          expectTypeOf(ctx.clients.caller.invoke.confirm("sure?")).toEqualTypeOf<Promise<boolean>>();
          // @ts-expect-error: no such client method
          await ctx.clients.all.recieve("a", "b");
          // @ts-expect-error: wrong argument type
          await ctx.clients.others.receive("a", 1);
          // @ts-expect-error: client results only on a single connection
          await ctx.clients.all.invoke.confirm("sure?");
        },
        add: (_ctx, a, b) => a + b,
        history: async function* () {},
      },
    });
  });

  it("refuses a missing method, an unknown method, wrong argument types and a wrong result", () => {
    defineHub<Chat>({
      // @ts-expect-error: 'history' is missing
      methods: { send: () => undefined, add: (_ctx, a, b) => a + b },
    });
    defineHub<Chat>({
      methods: {
        send: () => undefined,
        // @ts-expect-error: returns a string where the contract says number
        add: () => "three",
        history: async function* () {},
      },
    });
    defineHub<Chat>({
      methods: {
        // @ts-expect-error: 'room' is a string, not a number
        send: (_ctx, room: number) => void room,
        add: (_ctx, a, b) => a + b,
        history: async function* () {},
      },
    });
    defineHub<Chat>({
      methods: {
        send: () => undefined,
        add: (_ctx, a, b) => a + b,
        history: async function* () {},
        // @ts-expect-error: not in the contract
        extra: () => undefined,
      },
    });
  });

  it('takes streams declared: an async generator or stream: true for a stream, args with "stream" for uploads', () => {
    interface Files extends HubContract {
      server: {
        ticks(count: number): AsyncIterable<number>;
        upload(name: string, chunks: AsyncIterable<string>): number;
        size(): number;
      };
      client: object;
    }
    const size = () => 1;
    const iterable = (count: number): AsyncIterable<number> => ({
      [Symbol.asyncIterator]: async function* () {
        yield count;
      },
    });
    const upload = { args: ["string", "stream"], handler: async () => 0 } as const;
    defineHub<Files>({
      methods: {
        ticks: async function* (_ctx, count) {
          yield count;
        },
        upload,
        size,
      },
    });
    defineHub<Files>({
      methods: {
        ticks: { stream: true, handler: (_ctx, count) => iterable(count) },
        upload: {
          args: ["string", "stream"],
          async handler(_ctx, name, chunks) {
            expectTypeOf(chunks).toEqualTypeOf<AsyncIterable<string>>();
            return name.length;
          },
        },
        size,
      },
    });
    // @ts-expect-error: a plain function returning an iterable is not declared as streaming
    defineHub<Files>({ methods: { ticks: (_ctx, count) => iterable(count), upload, size } });
    // @ts-expect-error: an upload method must declare its streams
    defineHub<Files>({ methods: { ticks: async function* () {}, upload: async () => 0, size } });
    // @ts-expect-error: "stream" must mark the upload parameter, not the name
    defineHub<Files>({ methods: { ticks: async function* () {}, upload: { args: ["stream", "string"], handler: async () => 0 }, size } });
    // @ts-expect-error: a method that does not stream cannot say it does
    defineHub<Files>({ methods: { ticks: async function* () {}, upload, size: { stream: true, handler: () => 1 } } });
  });

  it("types the hub context used from outside a hub", () => {
    const chat = defineHub<Chat>({
      methods: { send: () => undefined, add: (_ctx, a, b) => a + b, history: async function* () {} },
    });
    const hubs = createHubServer({ hubs: { "/chat": chat } });
    expectTypeOf(hubs.hubContext(chat).clients.user("u").receive).toBeCallableWith("a", "b");
    // @ts-expect-error: wrong arity
    void hubs.hubContext(chat).clients.user("u").receive("a");
  });
});
