/**
 * A bench server for the servers' own tests: the built script (dist/servers) in its own process,
 * as the bench runs it, and the load generator's wire driven against it.
 *
 * @example
 * ```ts
 * const server = await ForkedServer.start(systems.wsJsonRpc);
 * expect(await server.echoThroughWire(4)).toEqual({ replies: [0, 1, 2, 3], failures: [] });
 * await server.stop();
 * ```
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BenchConnection } from "../load/connections.js";
import { wires } from "../load/wires.js";
import type { ChildReport, ParentRequest } from "../server-process.js";
import type { System } from "../systems.js";

export class ForkedServer {
  readonly #child: ChildProcess;
  readonly #system: System;
  readonly #connections: BenchConnection[] = [];
  readonly url: URL;

  private constructor(child: ChildProcess, system: System, port: number) {
    this.#child = child;
    this.#system = system;
    this.url = new URL(`http://127.0.0.1:${port}`);
  }

  /** Starts `system`'s server script from dist and resolves once it listens. */
  static async start(system: System): Promise<ForkedServer> {
    const script = fileURLToPath(new URL(`../../dist/servers/${system.server.script}.js`, import.meta.url));
    const child = fork(script, [...system.server.args], { execArgv: [] });
    const port = await new Promise<number>((resolve, reject) => {
      child.once("message", (report: ChildReport) => (report.type === "ready" ? resolve(report.port) : reject(new Error("Unexpected report."))));
      child.once("exit", (code) => reject(new Error(`The server exited with ${code} before listening.`)));
    });
    return new ForkedServer(child, system, port);
  }

  /**
   * Opens a connection on the system's wire, sends `count` echoes of 32 B back to back, and
   * resolves with the slots answered (in order of arrival) and any failure, once all are answered.
   */
  async echoThroughWire(count: number, timeoutMs = 5_000): Promise<{ replies: number[]; failures: Error[] }> {
    const wire = wires[this.#system.wire];
    const replies: number[] = [];
    const failures: Error[] = [];
    let answered: () => void = () => {};
    const allAnswered = new Promise<void>((resolve) => (answered = resolve));
    const sink = { reply: (slot: number) => replies.push(slot) === count && answered(), push: () => {} };
    const connection = await wire.open(this.url.origin, sink, 32, { onFailure: (error) => failures.push(error) });
    this.#connections.push(connection);
    for (let slot = 0; slot < count; slot++) connection.send(wire.codec.echo(slot, "x".repeat(32)));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([allAnswered, timedOut]);
    clearTimeout(timer);
    return { replies, failures };
  }

  /** Closes the connections it opened and stops the server, resolving once the process exited. */
  async stop(): Promise<void> {
    for (const connection of this.#connections) connection.close();
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    this.#child.send({ type: "stop" } satisfies ParentRequest);
    await exited;
  }
}
