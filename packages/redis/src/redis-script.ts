/**
 * A Lua script on one key, run by its digest (`EVALSHA`): its text crosses to Redis only the
 * first time (or after Redis restarted or flushed its scripts), not with every call.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { RedisClient } from "./backplane-options.js";

/**
 * @example
 * ```ts
 * const touch = new Script("return redis.call('PEXPIRE', KEYS[1], ARGV[1])");
 * await touch.run(client, "myapp:key", [5_000]);
 * ```
 */
export class Script {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash("sha1").update(source).digest("hex");
  }

  /** Runs it on `key`; `binary`: the reply as Buffers. */
  async run(client: RedisClient, key: string, args: ReadonlyArray<string | number | Buffer>, binary = false): Promise<unknown> {
    const call = (command: "EVALSHA" | "EVAL", script: string) =>
      binary ? client.callBuffer(command, script, 1, key, ...args) : client.call(command, script, 1, key, ...args);
    try {
      return await call("EVALSHA", this.#sha);
    } catch (error) {
      if (!(error as Error).message.startsWith("NOSCRIPT")) throw error;
      return call("EVAL", this.#source);
    }
  }
}
