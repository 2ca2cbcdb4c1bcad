/** The contract both the test server and the client suites use: one type for both ends. */
import type { HubContract } from "@hubwire/protocol";

export interface TestContract extends HubContract {
  server: {
    echo(value: unknown): unknown;
    large(length: number): string;
    add(a: number, b: number): number;
    nothing(): void;
    fail(message: string): void;
    join(group: string): void;
    toGroup(group: string, text: string): void;
    toAll(text: string): void;
    toOthers(text: string): void;
    counter(count: number, delayMs: number): AsyncIterable<number>;
    failingCounter(count: number): AsyncIterable<number>;
    sum(numbers: AsyncIterable<number>): number;
    ask(question: string): unknown;
    whoAmI(): string;
    closeMe(allowReconnect: boolean): void;
    pushNumbers(count: number): number;
    take(value: number): void;
    taken(): number[];
  };
  client: {
    receive(text: string): void;
    question(text: string): string;
    numbered(value: number): void;
  };
}
