/**
 * Catching up a connection taken over from a node that died (kept-connections.ts): what durable
 * delivery's streams hold for it that its holder had not delivered to it, from the holder's last
 * stored position (or the last entry it delivered to this connection, whichever is later).
 *
 * It runs while this node's stream readers are paused between two reads, with the connection
 * registered here through a {@link StandIn} that holds what this node sends it meanwhile, so every
 * entry is delivered to it once and each sender's in order: the others' up to where the readers
 * stopped by this catch-up, after it by the readers; this node's own (its readers skip them: it
 * delivers them as it sends them) by this catch-up up to its last send before the stand-in was
 * registered, after it through the stand-in. The holder's own sends are skipped: it delivered
 * them to its connections as it sent them, and stored them first.
 *
 * Where the stream no longer holds what the connection missed (trimmed past it, or Redis lost it),
 * nothing is delivered and the loss is returned: the caller closes the connection with
 * `allowReconnect`, as durable delivery does for every loss.
 *
 * @module
 */
import { type ClientResultOptions, type Logger, type ManagedConnection, MemoryLifetimeManager, type SerializedMessage } from "@hubwire/server";
import type { RedisClient } from "./backplane-options.js";
import { decodeEnvelope, EnvelopeKind } from "./envelope.js";
import type { Resumption } from "./kept-connections.js";
import { deliverLocally, targetOf } from "./local-delivery.js";
import { readEntry } from "./stream-entry.js";

/** Entries read per XRANGE. */
const batchSize = 512;

export interface CatchUpOptions {
  readonly client: RedisClient;
  /** The stream of each shard. */
  readonly streams: readonly string[];
  /** This node. */
  readonly serverId: string;
  /** Where this node's readers stopped, per shard (paused). */
  readonly readerPositions: readonly string[];
  /** This node's last send before the connection was registered here: later ones reached it then. */
  readonly ownThrough: number;
  /** Runs a delivery as that of entry `id` of `shard` (so that its store marks the entry delivered to the connection). */
  deliverEntry(shard: number, id: string, deliver: () => void): void;
  readonly logger: Logger;
}

/** What a catch-up did: how many messages it delivered, or why it could not. */
export type CatchUpResult = { readonly delivered: number } | { readonly lost: string };

/**
 * @example
 * ```ts
 * const paused = await durable.pause();
 * const result = await catchUp(connection, resumption, { client, streams, serverId, readerPositions: paused.positions, logger });
 * // register the connection here, then paused.resume()
 * ```
 */
export async function catchUp(connection: ManagedConnection, resumption: Resumption, options: CatchUpOptions): Promise<CatchUpResult> {
  const { client, streams, serverId, readerPositions, ownThrough, logger } = options;
  // The connection alone, in its groups: the lifetime manager's own matching decides what reaches it.
  const one = new MemoryLifetimeManager({ tracksPresence: false });
  await one.onConnected(connection);
  for (const group of resumption.groups) await one.addToGroup(connection.connectionId, group);
  const seen = new Set<string>();
  let delivered = 0;
  for (let shard = 0; shard < streams.length; shard++) {
    const stream = streams[shard]!;
    const from = later(resumption.holderPositions?.[shard] ?? "0-0", resumption.delivered.get(shard) ?? "0-0");
    const lost = await lostSince(client, stream, from);
    if (lost !== undefined) return { lost };
    const stoppedAt = readerPositions[shard] ?? "0-0";
    let cursor = from;
    for (;;) {
      const items = (await client.xrangeBuffer(stream, `(${cursor}`, "+", "COUNT", batchSize)) as unknown[];
      for (const item of items) {
        const entry = readEntry(item);
        if (entry === undefined) continue;
        cursor = entry.id;
        if (entry.senderId === resumption.holder) continue;
        if (entry.senderId === serverId) {
          if (entry.seq > ownThrough) continue;
        } else if (compareIds(entry.id, stoppedAt) > 0) {
          // Past where the readers stopped, they deliver the others' sends.
          continue;
        }
        const envelope = decodeEnvelope(entry.envelope);
        if (envelope?.kind !== EnvelopeKind.Invocation || seen.has(envelope.messageId)) continue;
        seen.add(envelope.messageId);
        if ([...one.resolve(targetOf(envelope))].length === 0) continue;
        // This node's own past where the readers stopped are not marked: the readers have yet to deliver the others' before them.
        if (compareIds(entry.id, stoppedAt) > 0) deliverLocally(one, envelope, logger);
        else options.deliverEntry(shard, entry.id, () => deliverLocally(one, envelope, logger));
        delivered++;
      }
      if (items.length < batchSize) break;
    }
  }
  await one.close();
  return { delivered };
}

/**
 * Why entries after `from` may be gone, if they may. Trimming removes the oldest entries first,
 * so while the entry at `from` is still there, everything after it is; once it is not (trimmed, or
 * the stream lost by Redis and begun again), what followed it may be gone too. With no position
 * (`0-0`, the stream was empty when the connection opened), any entry ever trimmed may have been
 * one of its own.
 */
async function lostSince(client: RedisClient, stream: string, from: string): Promise<string | undefined> {
  if (from === "0-0") {
    const info = (await client.call("XINFO", "STREAM", stream).catch(() => undefined)) as unknown[] | undefined;
    if (info === undefined) return undefined;
    const field = (name: string) => Number(info[info.indexOf(name) + 1]);
    return field("entries-added") > field("length") ? "the stream was trimmed past the position" : undefined;
  }
  const [first] = await client.xrange(stream, from, "+", "COUNT", 1);
  return first?.[0] === from ? undefined : "the stream no longer holds the position (trimmed past it, or lost by Redis)";
}

/** The later of two stream ids. */
function later(a: string, b: string): string {
  return compareIds(a, b) >= 0 ? a : b;
}

/** Orders stream ids (`ms-seq`). */
export function compareIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split("-").map(Number) as [number, number];
  const [bMs, bSeq] = b.split("-").map(Number) as [number, number];
  return aMs !== bMs ? aMs - bMs : aSeq - bSeq;
}

/**
 * Registered in a connection's place while it is caught up: holds what this node sends it, so
 * that it arrives after what the catch-up delivers; then passes everything through.
 *
 * @example
 * ```ts
 * const standIn = new StandIn(connection, logger);
 * await local.onConnected(standIn);
 * // catch up, writing to `connection` directly
 * standIn.release(); // what was held, in order; from now on it passes through
 * ```
 */
export class StandIn implements ManagedConnection {
  readonly connection: ManagedConnection;
  readonly #logger: Logger;
  #held: SerializedMessage[] | undefined = [];

  constructor(connection: ManagedConnection, logger: Logger) {
    this.connection = connection;
    this.#logger = logger;
  }

  get connectionId(): string {
    return this.connection.connectionId;
  }

  get userId(): string | undefined {
    return this.connection.userId;
  }

  get protocol(): { readonly name: string } | undefined {
    return this.connection.protocol;
  }

  write(message: SerializedMessage): void | Promise<void> {
    if (this.#held === undefined) return this.connection.write(message);
    this.#held.push(message);
  }

  invokeClient(method: string, args: readonly unknown[], options: ClientResultOptions): Promise<unknown> {
    return this.connection.invokeClient(method, args, options);
  }

  close(options?: { error?: string; allowReconnect?: boolean }): void {
    this.connection.close?.(options);
  }

  /** Writes what it held, in order; passes everything through from now on. */
  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const message of held) {
      try {
        void this.connection.write(message)?.catch(() => undefined);
      } catch (error) {
        this.#logger.log("warn", "A message held while a connection was caught up could not be written.", {
          connectionId: this.connectionId,
          error: (error as Error).message,
        });
      }
    }
  }
}
