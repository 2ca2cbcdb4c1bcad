/**
 * The reading half of durable delivery, for one stream: a loop of `XREAD BLOCK` from the last
 * entry this node read, on a connection of its own (a blocking read would hold up every command
 * sharing its connection). When the connection drops (Redis restarted, `CLIENT KILL`, a network
 * cut) the loop waits for it to come back and reads on from the same entry: nothing is skipped
 * and nothing read twice.
 *
 * Where reading on is impossible, the loss is found and reported (`lossFound`), never skipped
 * in silence:
 * - **stream reset**: the epoch key beside the stream changed (or vanished), so Redis lost its data
 *   (a restart without persistence, a flush, a failover to a replica that was behind). The reader
 *   starts again from the new stream's first entry.
 * - **trimmed**: entries after this node's position were trimmed away before it read them
 *   (`MAXLEN` reached while it was away): the stream counts every entry it was given
 *   (`entries-added`), so the entries trimmed can be compared with those this node read.
 * - **gap**: a sender's numbers jump (sender-sequences.ts): how many of its messages were lost,
 *   exactly, once its next message is read.
 *
 * The epoch, the position and the counts are checked at start, after every connection problem
 * and every `validateIntervalMs` (at most one extra round trip per interval).
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "@hubwire/server";
import type { RedisClient } from "./backplane-options.js";
import { SenderSequences, type SequenceGap } from "./sender-sequences.js";
import { readEntry } from "./stream-entry.js";

/**
 * One round trip that reads (and, missing, creates) the epoch and what the stream says of
 * itself. KEYS: stream, epoch key; ARGV: a new epoch, used if there is none.
 */
const validateScript = `
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  redis.call('SET', KEYS[2], ARGV[1])
  epoch = ARGV[1]
end
local ok, info = pcall(redis.call, 'XINFO', 'STREAM', KEYS[1])
if not ok then return {epoch} end
local result = {epoch, '', '', ''}
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then result[2] = info[i + 1]
  elseif info[i] == 'entries-added' then result[3] = tostring(info[i + 1])
  elseif info[i] == 'length' then result[4] = tostring(info[i + 1]) end
end
return result`;

/** A reader paused between two reads: what it delivered last, and how to let it go on. */
export interface PausedReader {
  readonly position: string;
  resume(): void;
}

/** Why a loss was found. */
export type LossReason = "stream-reset" | "trimmed" | "gap";

/** A loss one reader found. */
export interface LossFinding {
  readonly reason: LossReason;
  readonly stream: string;
  /** Messages known lost; undefined for a reset or a trim, whose messages are counted per sender as their next ones arrive (`gap`). */
  readonly lost: number | undefined;
  /** For a gap: whose messages. */
  readonly senderId: string | undefined;
  /** The last entry this node had read when it found the loss. */
  readonly lastId: string;
  /** A new incident (the node's connections should be told); false for a gap an incident already reported explains. */
  readonly isNewIncident: boolean;
}

export interface StreamReaderOptions {
  /** A connection for this reader alone (it blocks). */
  readonly client: RedisClient;
  readonly stream: string;
  readonly epochKey: string;
  /** This node: its own entries are read past, neither counted nor decoded (it delivered them as it sent them). */
  readonly serverId: string;
  readonly blockMs: number;
  /** Entries read per XREAD at most. */
  readonly batchSize: number;
  readonly validateIntervalMs: number;
  readonly logger: Logger;
  /** Each entry's envelope, in stream order, with its id. */
  deliver(envelope: Uint8Array, id: string): void;
  /** An entry that is not one of ours (counted and logged by the caller). */
  malformed(id: string): void;
  lossFound(finding: LossFinding): void;
}

/**
 * @example
 * ```ts
 * const reader = new StreamReader({ client: publisher.duplicate(), stream, epochKey, serverId, blockMs: 1_000, batchSize: 512, validateIntervalMs: 1_000, logger,
 *   deliver: (envelope) => router.routeInvocation(envelope), malformed: () => stats.malformedDropped++, lossFound: (finding) => report(finding) });
 * reader.start();
 * await reader.close();
 * ```
 */
export class StreamReader {
  readonly #options: StreamReaderOptions;
  readonly #sequences = new SenderSequences();
  #epoch: string | undefined;
  /** One per life of the stream: a reset starts the next. */
  #generation = 0;
  #incidents = 0;
  /** The last entry read (`0-0`: before the first). */
  #lastId = "0-0";
  /** How many entries the stream had been given up to and including `#lastId`, when known. */
  #offset = 0;
  #validatedAt = Number.NEGATIVE_INFINITY;
  #mustValidate = true;
  /** Since when reading has been failing (logged once per outage). */
  #failingSince: number | undefined;
  #closed = false;
  #running: Promise<void> | undefined;
  #markPositioned: () => void = () => undefined;
  /** Callers waiting for the reader to pause between two reads. */
  #pauseWaiters: Array<(paused: PausedReader) => void> = [];
  /** How many holders of a pause have not resumed it yet. */
  #pauseHolders = 0;
  #resumed: () => void = () => undefined;
  /** Resolves once the reader has taken its first position (the stream's end at its first look). */
  readonly positioned = new Promise<void>((resolve) => {
    this.#markPositioned = resolve;
  });

  constructor(options: StreamReaderOptions) {
    this.#options = options;
  }

  /** Whether it has taken its first position: every entry added since is read. */
  get isPositioned(): boolean {
    return this.#epoch !== undefined;
  }

  /** The last entry read (for diagnostics and tests). */
  get position(): string {
    return this.#lastId;
  }

  /**
   * Pauses delivery between two reads (a blocking read in flight finishes first, within `blockMs`):
   * resolves with the last entry delivered, and a `resume` to call once. Pauses overlap: reading
   * goes on when every holder has resumed.
   */
  pause(): Promise<PausedReader> {
    if (this.#closed || this.#running === undefined) return Promise.resolve({ position: this.#lastId, resume: () => undefined });
    return new Promise((resolve) => this.#pauseWaiters.push(resolve));
  }

  /** Starts reading (from the stream's end, at the first validation). */
  start(): void {
    this.#running ??= this.#run();
  }

  /** Stops reading and disconnects the reader's connection. */
  async close(): Promise<void> {
    this.#closed = true;
    // Nothing is read any more: whoever waits for a pause has it, and a pause held lets go.
    for (const wake of this.#pauseWaiters.splice(0)) wake({ position: this.#lastId, resume: () => undefined });
    this.#resumed();
    this.#options.client.disconnect();
    await this.#running;
  }

  async #run(): Promise<void> {
    const { client, stream, blockMs, batchSize, validateIntervalMs, logger } = this.#options;
    let backoffMs = 50;
    while (!this.#closed) {
      if (this.#pauseWaiters.length > 0) await this.#paused();
      try {
        if (this.#mustValidate || performance.now() - this.#validatedAt >= validateIntervalMs) await this.#validate();
        const reply = await client.xreadBuffer("COUNT", batchSize, "BLOCK", blockMs, "STREAMS", stream, this.#lastId);
        if (this.#closed) return;
        if (this.#failingSince !== undefined) {
          logger.log("info", "The durable backplane reads its stream again.", {
            stream,
            from: this.#lastId,
            afterMs: Math.round(performance.now() - this.#failingSince),
          });
          this.#failingSince = undefined;
        }
        backoffMs = 50;
        this.#read(reply);
      } catch (error) {
        if (this.#closed) return;
        // Whatever happened to the connection, check the epoch and the position before reading on.
        this.#mustValidate = true;
        if (this.#failingSince === undefined) {
          this.#failingSince = performance.now();
          logger.log("warn", "The durable backplane cannot read its stream; it reads on from where it stopped once Redis answers.", {
            stream,
            from: this.#lastId,
            error: (error as Error).message,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 1_000);
      }
    }
  }

  /** Hands each waiter the pause, and waits until all who hold it have resumed. */
  async #paused(): Promise<void> {
    const resumed = new Promise<void>((resolve) => (this.#resumed = resolve));
    for (const wake of this.#pauseWaiters.splice(0)) {
      this.#pauseHolders++;
      let done = false;
      wake({
        position: this.#lastId,
        resume: () => {
          if (done) return;
          done = true;
          if (--this.#pauseHolders === 0) this.#resumed();
        },
      });
    }
    await resumed;
  }

  async #validate(): Promise<void> {
    const { client, stream, epochKey } = this.#options;
    const reply = (await client.eval(validateScript, 2, stream, epochKey, randomBytes(8).toString("hex"))) as unknown[];
    const [epoch, lastGenerated, added, length] = reply.map((item) => String(item)) as [string, string?, string?, string?];
    const hasStream = lastGenerated !== undefined && lastGenerated !== "";
    const trimmed = hasStream ? Number(added) - Number(length) : 0;
    this.#mustValidate = false;
    this.#validatedAt = performance.now();
    if (this.#epoch === undefined) {
      // The first look: read what comes after what the stream holds now.
      this.#epoch = epoch;
      this.#lastId = hasStream ? lastGenerated : "0-0";
      this.#offset = hasStream ? Number(added) : 0;
      this.#markPositioned();
      return;
    }
    if (epoch !== this.#epoch) {
      const lastId = this.#lastId;
      this.#epoch = epoch;
      this.#generation++;
      this.#incidents++;
      // Everything in the new stream came after the loss: read it all. What it trimmed already is
      // counted per sender, as part of this incident.
      this.#lastId = "0-0";
      this.#offset = trimmed;
      this.#options.lossFound({ reason: "stream-reset", stream, lost: undefined, senderId: undefined, lastId, isNewIncident: true });
      return;
    }
    if (!hasStream) return;
    if (lastGenerated === this.#lastId) this.#offset = Number(added);
    else if (trimmed > this.#offset) {
      this.#incidents++;
      this.#offset = trimmed;
      this.#options.lossFound({ reason: "trimmed", stream, lost: undefined, senderId: undefined, lastId: this.#lastId, isNewIncident: true });
    }
  }

  #read(reply: unknown): void {
    const items = itemsOf(reply);
    const { serverId, stream } = this.#options;
    for (const item of items) {
      const entry = readEntry(item);
      const id = entry?.id ?? idOf(item);
      if (id !== undefined) this.#lastId = id;
      this.#offset++;
      if (entry === undefined) {
        this.#options.malformed(id ?? "?");
        continue;
      }
      // This node delivered its own sends to its connections as it sent them: nothing to decode.
      if (entry.senderId === serverId) continue;
      const gap = this.#sequences.observe(entry, { generation: this.#generation, incidents: this.#incidents });
      if (gap !== undefined) this.#gapFound(gap, stream);
      try {
        this.#options.deliver(entry.envelope, entry.id);
      } catch (error) {
        // One entry that cannot be delivered must not stop the others (nor be read again).
        this.#options.logger.log("error", "Delivering a stream entry failed.", { stream, id: entry.id, error: (error as Error).message });
      }
    }
  }

  #gapFound(gap: SequenceGap, stream: string): void {
    // Entries missed in this life of the stream were trimmed: they count in its offsets.
    if (!gap.acrossGenerations) this.#offset += gap.lost;
    if (!gap.explained) this.#incidents++;
    this.#options.lossFound({ reason: "gap", stream, lost: gap.lost, senderId: gap.senderId, lastId: this.#lastId, isNewIncident: !gap.explained });
  }
}

/** The `[id, fields]` items of an XREAD reply for one stream (RESP2 `[[key, items]]`, or RESP3 mapped flat `[key, items]`). */
function itemsOf(reply: unknown): unknown[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const first = reply[0];
  if (Array.isArray(first) && Array.isArray(first[1])) return first[1] as unknown[];
  return Array.isArray(reply[1]) ? (reply[1] as unknown[]) : [];
}

function idOf(item: unknown): string | undefined {
  const id = Array.isArray(item) ? item[0] : undefined;
  return typeof id === "string" ? id : id instanceof Uint8Array ? Buffer.from(id).toString("utf8") : undefined;
}
