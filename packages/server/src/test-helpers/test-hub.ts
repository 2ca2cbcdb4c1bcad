/**
 * The hub the server's suites drive with the official SignalR client: one method per behaviour
 * to check, and a `sendTo` that reaches every target kind.
 */
import type { HubContract } from "@hubwire/protocol";
import { defineHub, type HubCallContext, HubError } from "../api.js";

export type TargetSpec =
  | { kind: "all" }
  | { kind: "allExcept"; ids: string[] }
  | { kind: "caller" }
  | { kind: "others" }
  | { kind: "client"; id: string }
  | { kind: "clients"; ids: string[] }
  | { kind: "group"; name: string }
  | { kind: "groups"; names: string[] }
  | { kind: "groupExcept"; name: string; ids: string[] }
  | { kind: "othersInGroup"; name: string }
  | { kind: "user"; id: string }
  | { kind: "users"; ids: string[] };

export interface TestContract extends HubContract {
  server: {
    echo(value: unknown): unknown;
    nothing(): void;
    add(a: number, b: number): number;
    throwPlain(message: string): void;
    throwHubError(message: string): void;
    whoAmI(): { connectionId: string; userId: string | null; headerNames: string[]; remoteAddress: string | null };
    join(group: string): void;
    leave(group: string): void;
    sendTo(target: TargetSpec, text: string): void;
    closeMe(allowReconnect: boolean): void;
    counter(count: number, delayMs: number): AsyncIterable<number>;
    askClient(question: string): unknown;
    adminOnly(): string;
    record(value: number): void;
    sleep(ms: number): { maxConcurrent: number };
    sum(numbers: AsyncIterable<number>): number;
    concat(first: AsyncIterable<string>, separator: string, second: AsyncIterable<string>): string;
    uploadError(items: AsyncIterable<unknown>): string;
    doubleEach(items: AsyncIterable<number>): AsyncIterable<number>;
    slowSum(delayMs: number, items: AsyncIterable<number>): number;
    askAndExplain(question: string): string;
    take(value: number): void;
    failingCounter(count: number): AsyncIterable<number>;
    askWithin(timeoutMs: number, cancelAfterMs: number | null): string;
    taken(): number[];
    pushNumbers(count: number, everyMs: number): number;
  };
  client: {
    receive(text: string): void;
    question(text: string): unknown;
    numbered(value: number): void;
  };
}

/** Values `record` has seen, in order (fire-and-forget calls report here). */
export const recorded: number[] = [];

function clientsFor(ctx: HubCallContext<TestContract>, target: TargetSpec) {
  const { clients } = ctx;
  switch (target.kind) {
    case "all":
      return clients.all;
    case "allExcept":
      return clients.allExcept(target.ids);
    case "caller":
      return clients.caller;
    case "others":
      return clients.others;
    case "client":
      return clients.client(target.id);
    case "clients":
      return clients.clients(target.ids);
    case "group":
      return clients.group(target.name);
    case "groups":
      return clients.groups(target.names);
    case "groupExcept":
      return clients.groupExcept(target.name, target.ids);
    case "othersInGroup":
      return clients.othersInGroup(target.name);
    case "user":
      return clients.user(target.id);
    case "users":
      return clients.users(target.ids);
  }
}

export const testHub = defineHub<TestContract>({
  methods: {
    echo: (_ctx, value) => value,
    nothing: () => undefined,
    add: { args: ["number", "number"], handler: (_ctx, a, b) => a + b },
    throwPlain(_ctx, message) {
      throw new Error(message);
    },
    throwHubError(_ctx, message) {
      throw new HubError(message);
    },
    whoAmI: (ctx) => ({
      connectionId: ctx.connectionId,
      userId: ctx.userId ?? null,
      headerNames: Object.keys(ctx.request?.headers ?? {}).sort(),
      remoteAddress: ctx.request?.remoteAddress ?? null,
    }),
    join: (ctx, group) => ctx.groups.add(ctx.connectionId, group),
    leave: (ctx, group) => ctx.groups.remove(ctx.connectionId, group),
    sendTo: (ctx, target, text) => clientsFor(ctx, target).receive(text),
    closeMe(ctx, allowReconnect) {
      // After the reply: closing first would drop the Completion.
      setTimeout(() => ctx.close({ error: "Closed by the test.", allowReconnect }), 20);
    },
    async *counter(ctx, count, delayMs) {
      for (let i = 0; i < count; i++) {
        if (ctx.signal.aborted) return;
        yield i;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    },
    askClient: (ctx, question) => ctx.clients.caller.invoke.question(question),
    adminOnly: {
      handler: () => "secret",
      authorize: (ctx) => ctx.principal?.claims?.["role"] === "admin",
    },
    record(_ctx, value) {
      recorded.push(value);
    },
    sum: {
      args: ["stream"],
      async handler(_ctx, numbers) {
        let total = 0;
        for await (const value of numbers) total += value;
        return total;
      },
    },
    concat: {
      args: ["stream", "string", "stream"],
      async handler(_ctx, first, separator, second) {
        const collect = async (items: AsyncIterable<string>) => {
          const all: string[] = [];
          for await (const item of items) all.push(item);
          return all.join("");
        };
        const [a, b] = await Promise.all([collect(first), collect(second)]);
        return `${a}${separator}${b}`;
      },
    },
    uploadError: {
      args: ["stream"],
      async handler(_ctx, items) {
        const seen: unknown[] = [];
        try {
          for await (const item of items) seen.push(item);
          return `completed after ${seen.length}`;
        } catch (error) {
          return `failed after ${seen.length}: ${(error as Error).message}`;
        }
      },
    },
    doubleEach: {
      args: ["stream"],
      async *handler(_ctx, items) {
        for await (const item of items) yield item * 2;
      },
    },
    slowSum: {
      args: ["number", "stream"],
      async handler(_ctx, delayMs, items) {
        let total = 0;
        for await (const value of items) {
          total += value;
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
        return total;
      },
    },
    async askAndExplain(ctx, question) {
      try {
        return `answer: ${JSON.stringify(await ctx.clients.caller.invoke.question(question))}`;
      } catch (error) {
        return `${(error as Error).name} (${(error as { code?: string }).code}): ${(error as Error).message}`;
      }
    },
    async *failingCounter(_ctx, count) {
      for (let i = 0; i < count; i++) yield i;
      throw new HubError("stream broke");
    },
    async askWithin(ctx, timeoutMs, cancelAfterMs) {
      const controller = new AbortController();
      if (cancelAfterMs !== null) setTimeout(() => controller.abort(), cancelAfterMs);
      try {
        await ctx.clients.caller.invokeWith({ timeoutMs, signal: controller.signal }).question("never answered");
        return "answered";
      } catch (error) {
        return (error as Error).message;
      }
    },
    take(ctx, value) {
      const taken = (ctx.items.get("taken") as number[] | undefined) ?? [];
      taken.push(value);
      ctx.items.set("taken", taken);
    },
    taken: (ctx) => (ctx.items.get("taken") as number[] | undefined) ?? [],
    async pushNumbers(ctx, count, everyMs) {
      for (let i = 1; i <= count; i++) {
        await ctx.clients.caller.numbered(i);
        if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
      return count;
    },
    async sleep(ctx, ms) {
      const running = ((ctx.items.get("running") as number | undefined) ?? 0) + 1;
      ctx.items.set("running", running);
      ctx.items.set("max", Math.max(running, (ctx.items.get("max") as number | undefined) ?? 0));
      await new Promise((resolve) => setTimeout(resolve, ms));
      ctx.items.set("running", (ctx.items.get("running") as number) - 1);
      return { maxConcurrent: ctx.items.get("max") as number };
    },
  },
});
