/**
 * Stateful connections kept in Redis (`keepConnections`, with durable delivery), so that when
 * their node dies another node resumes them (the server's side is `connection-keeping.ts`).
 *
 * One hash per connection, `{base}:kept:{<sha256 of its token>}` (the token itself is never
 * stored), holds: who holds it (`node`), its id, user, protocol and transport, the client's
 * progress (`recv`), the unacknowledged messages (`o:<seq>`, from `first` to `last`), the calls
 * open (`i:<id>`), its groups (`g:<name>`), and per stream shard the last entry delivered to it
 * (`e:<shard>`). Every write is a script that first checks that this node still holds it: a node
 * that lost it (taken over while it was cut off) fails its next store and ends its copy.
 *
 * Beside them, per node: a lease (`{base}:kept-lease:<node>`, renewed every heartbeat, three
 * heartbeats long), which says the node is alive, and its stream positions
 * (`{base}:kept-position:<node>`), written once what it read through them was stored for every
 * connection it holds. A node takes a connection over only once its holder's lease has run out,
 * and then catches it up from the holder's positions (kept-catch-up.ts).
 *
 * Everything expires: a hash with the reconnect window plus a lease after its last write or
 * renewal (a holder renews its connections' hashes every few heartbeats), so state whose node and
 * client are both gone goes away by itself.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { TransportName } from "@hubwire/protocol";
import type { ConnectionKeeper, ConnectionKeeping, KeptConnection, KeptIdentity, KeptMessage, Logger, TakenOver } from "@hubwire/server";
import type { RedisClient } from "./backplane-options.js";
import { Script } from "./redis-script.js";

/** KEYS: the hash. ARGV: node, ttl, seq, bytes, answered call ('' none), shard ('' none), entry id. */
const sentScript = new Script(`
if redis.call('HGET', KEYS[1], 'node') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'o:' .. ARGV[3], ARGV[4], 'last', ARGV[3])
if ARGV[5] ~= '' then redis.call('HDEL', KEYS[1], 'i:' .. ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'e:' .. ARGV[6], ARGV[7]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`);

/** KEYS: the hash. ARGV: node, ttl, through, how many opened, the opened ids, then the closed ids. */
const receivedScript = new Script(`
if redis.call('HGET', KEYS[1], 'node') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'recv', ARGV[3])
local opened = tonumber(ARGV[4])
for i = 5, 4 + opened do redis.call('HSET', KEYS[1], 'i:' .. ARGV[i], '1') end
for i = 5 + opened, #ARGV do redis.call('HDEL', KEYS[1], 'i:' .. ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`);

/** KEYS: the hash. ARGV: node, through. */
const acknowledgedScript = new Script(`
if redis.call('HGET', KEYS[1], 'node') ~= ARGV[1] then return 0 end
local first = tonumber(redis.call('HGET', KEYS[1], 'first')) or 1
local through = tonumber(ARGV[2])
for seq = first, through do redis.call('HDEL', KEYS[1], 'o:' .. seq) end
if through >= first then redis.call('HSET', KEYS[1], 'first', through + 1) end
return 1`);

/** KEYS: the hash. ARGV: node, 'add' or 'remove', group. */
const groupScript = new Script(`
if redis.call('HGET', KEYS[1], 'node') ~= ARGV[1] then return 0 end
if ARGV[2] == 'add' then redis.call('HSET', KEYS[1], 'g:' .. ARGV[3], '1') else redis.call('HDEL', KEYS[1], 'g:' .. ARGV[3]) end
return 1`);

/** KEYS: the hash. ARGV: node. */
const endedScript = new Script(`
if redis.call('HGET', KEYS[1], 'node') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`);

/** KEYS: the hash. ARGV: this node, the holder it takes it from. Its fields, or nil if another node got there first. */
const takeScript = new Script(`
if redis.call('HGET', KEYS[1], 'node') ~= ARGV[2] then return false end
redis.call('HSET', KEYS[1], 'node', ARGV[1])
redis.call('PEXPIRE', KEYS[1], redis.call('HGET', KEYS[1], 'ttl'))
return redis.call('HGETALL', KEYS[1])`);

/** What the node that takes a connection over needs to catch it up (kept-catch-up.ts). */
export interface Resumption {
  readonly holder: string;
  readonly groups: readonly string[];
  /** Per shard, the last entry the holder delivered to it, when it said. */
  readonly delivered: ReadonlyMap<number, string>;
  /** Per shard, how far the holder had read and stored for all its connections, when it said. */
  readonly holderPositions: readonly string[] | undefined;
}

export interface KeptConnectionsOptions {
  readonly client: RedisClient;
  /** The hub's `{prefix}:{hub}`. */
  readonly base: string;
  readonly serverId: string;
  readonly heartbeatIntervalMs: number;
  readonly logger: Logger;
  /** The stream entry being delivered now, if any (durable delivery's reader sets it). */
  currentEntry(): { readonly shard: number; readonly id: string } | undefined;
  /** Where this node's readers stand, per shard. */
  positions(): readonly string[];
}

class StoreRefused extends Error {
  override readonly name = "StoreRefused";
}

/**
 * @example
 * ```ts
 * const kept = new KeptConnections({ client: publisher, base: channels.base, serverId, heartbeatIntervalMs: 2_000, logger,
 *   currentEntry: () => durable.currentEntry, positions: () => durable.positions });
 * forwarding.keeping === kept; // the hub's connections keep themselves through it
 * ```
 */
export class KeptConnections implements ConnectionKeeping {
  readonly #options: KeptConnectionsOptions;
  /** This node's kept connections, by connection id. */
  readonly #byId = new Map<string, Keeper>();
  /** Connections this node took over, until they register here (and are caught up). */
  readonly #resuming = new Map<string, Resumption>();
  /** Stores not yet answered: the node's positions are written only once those before them are. */
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Takeovers under way on this node, by hash: a second request for the same connection shares the first's. */
  readonly #takingOver = new Map<string, Promise<TakenOver | undefined>>();
  readonly #timer: ReturnType<typeof setInterval>;
  #beats = 0;
  /** Catch-ups under way: the node's positions are not written meanwhile (what it read is not all stored yet). */
  #catchingUp = 0;
  #closed = false;

  constructor(options: KeptConnectionsOptions) {
    this.#options = options;
    this.#timer = setInterval(() => void this.#beat(), options.heartbeatIntervalMs).unref();
    void this.#beat();
  }

  keep(identity: KeptIdentity): ConnectionKeeper {
    const keeper = new Keeper(
      this,
      this.#options,
      hashKey(this.#options.base, identity.connectionToken),
      identity.connectionId,
      ttlOf(identity.reconnectWindowMs, this.#options),
    );
    this.#byId.set(identity.connectionId, keeper);
    keeper.open(identity);
    return keeper;
  }

  takeOver(token: string): Promise<TakenOver | undefined> {
    const key = hashKey(this.#options.base, token);
    let taking = this.#takingOver.get(key);
    if (taking === undefined) {
      taking = this.#take(key);
      this.#takingOver.set(key, taking);
      const done = () => this.#takingOver.delete(key);
      taking.then(done, done);
    }
    return taking;
  }

  async #take(key: string): Promise<TakenOver | undefined> {
    const { client, serverId, base, heartbeatIntervalMs, logger } = this.#options;
    const holder = (await client.hget(key, "node")) ?? undefined;
    if (holder === undefined || holder === serverId) return undefined;
    // The holder answers for its connections while it lives (its lease): wait for it to run out.
    const deadline = performance.now() + 4 * heartbeatIntervalMs;
    while ((await client.exists(leaseKey(base, holder))) === 1) {
      if (performance.now() > deadline) throw new Error(`The node holding the connection (${holder}) still holds its lease but does not answer for it.`);
      await new Promise((resolve) => setTimeout(resolve, heartbeatIntervalMs / 4));
    }
    // Read before the take: once taken, nothing may fail before the connection is resumed here.
    const positions = await client.get(positionKey(base, holder));
    const fields = (await takeScript.run(client, key, [serverId, holder], true)) as Buffer[] | null;
    if (fields === null) throw new Error("Another node took the connection over first.");
    const read = readHash(fields);
    const connectionId = read.text("id");
    const ttl = Number(read.text("ttl"));
    const keeper = new Keeper(this, this.#options, key, connectionId, ttl);
    this.#byId.set(connectionId, keeper);
    this.#resuming.set(connectionId, {
      holder,
      groups: read.prefixed("g:").map(([name]) => name),
      delivered: new Map(read.prefixed("e:").map(([shard, id]) => [Number(shard), id.toString("utf8")])),
      holderPositions: positions === null ? undefined : (JSON.parse(positions) as string[]),
    });
    const first = Number(read.text("first"));
    const last = Number(read.text("last"));
    const messages: KeptMessage[] = [];
    for (let seq = first; seq <= last; seq++) {
      const bytes = read.bytes(`o:${seq}`);
      if (bytes === undefined) {
        // The client's numbering would slip: it cannot be resumed as it was (it reconnects).
        logger.log("error", "A kept connection misses one of its unacknowledged messages; it is not resumed.", { connectionId, missing: seq });
        keeper.ended();
        return undefined;
      }
      messages.push({ sequenceId: seq, bytes });
    }
    const user = read.text("user");
    const connection: KeptConnection = {
      connectionId,
      userId: user === "" ? undefined : user,
      protocol: read.text("protocol"),
      transport: read.text("transport") as TransportName,
      reconnectWindowMs: Number(read.text("window")),
      receivedThrough: Number(read.text("recv")),
      messages,
      lastSequenceId: last,
      openInvocations: read.prefixed("i:").map(([id]) => id),
      groups: read.prefixed("g:").map(([name]) => name),
    };
    this.#options.logger.log("info", "Took over a kept connection from a node that is gone.", { connectionId, holder, messages: messages.length });
    return { connection, keeper };
  }

  /** A connection this node took over and that registers now: what catching it up needs; once. */
  resuming(connectionId: string): Resumption | undefined {
    const resumption = this.#resuming.get(connectionId);
    this.#resuming.delete(connectionId);
    return resumption;
  }

  /** A catch-up begins (kept-catch-up.ts); call what it returns when it ends. */
  catchingUp(): () => void {
    this.#catchingUp++;
    let done = false;
    return () => {
      if (!done) this.#catchingUp--;
      done = true;
    };
  }

  /** A group change of a connection this node holds, stored when the connection is kept. */
  async group(connectionId: string, action: "add" | "remove", group: string): Promise<void> {
    await this.#byId.get(connectionId)?.group(action, group);
  }

  /** Stops renewing; the lease and the hashes run out (a node that stops cleanly has closed its connections first). */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }

  /** Tracks a store until it is answered. */
  track<T>(store: Promise<T>): Promise<T> {
    this.#inFlight.add(store);
    const done = () => this.#inFlight.delete(store);
    store.then(done, done);
    return store;
  }

  forget(connectionId: string, keeper: Keeper): void {
    if (this.#byId.get(connectionId) === keeper) this.#byId.delete(connectionId);
    this.#resuming.delete(connectionId);
  }

  /** Renews the lease; every few beats the hashes; and writes the positions once what was read through them is stored. */
  async #beat(): Promise<void> {
    if (this.#closed) return;
    const { client, base, serverId, heartbeatIntervalMs, logger } = this.#options;
    const beat = this.#beats++;
    const positions = this.#catchingUp === 0 ? this.#options.positions() : [];
    const before = Promise.allSettled([...this.#inFlight]);
    try {
      // One command each: on a Redis Cluster every hash is in a slot of its own.
      const renewals = [client.set(leaseKey(base, serverId), "1", "PX", 3 * heartbeatIntervalMs)];
      if (beat % 3 === 0) for (const keeper of this.#byId.values()) renewals.push(client.pexpire(keeper.key, keeper.ttl) as Promise<never>);
      await Promise.all(renewals);
      await before;
      if (positions.length > 0) await client.set(positionKey(base, serverId), JSON.stringify(positions), "PX", this.#longestTtl());
    } catch (error) {
      logger.log("warn", "Could not renew this node's lease on its kept connections.", { error: (error as Error).message });
    }
  }

  #longestTtl(): number {
    let longest = 10 * this.#options.heartbeatIntervalMs;
    for (const keeper of this.#byId.values()) longest = Math.max(longest, keeper.ttl);
    return longest;
  }
}

/** One kept connection's store. */
class Keeper implements ConnectionKeeper {
  readonly key: string;
  readonly ttl: number;
  readonly #kept: KeptConnections;
  readonly #options: KeptConnectionsOptions;
  readonly #connectionId: string;
  #ended = false;

  constructor(kept: KeptConnections, options: KeptConnectionsOptions, key: string, connectionId: string, ttl: number) {
    this.#kept = kept;
    this.#options = options;
    this.key = key;
    this.#connectionId = connectionId;
    this.ttl = ttl;
  }

  /** Writes what the connection is (its first store: every later one comes after it on the same connection to Redis). */
  open(identity: KeptIdentity): void {
    const { client, serverId } = this.#options;
    const fields = {
      node: serverId,
      id: identity.connectionId,
      user: identity.userId ?? "",
      protocol: identity.protocol,
      transport: identity.transport,
      window: String(identity.reconnectWindowMs),
      ttl: String(this.ttl),
      recv: "0",
      first: "1",
      last: "0",
      // Where the streams stood as it opened: a catch-up never reaches back before it.
      ...Object.fromEntries(this.#options.positions().map((position, shard) => [`e:${shard}`, position])),
    };
    void this.#kept.track(client.multi().del(this.key).hset(this.key, fields).pexpire(this.key, this.ttl).exec());
  }

  sent(sequenceId: number, bytes: Uint8Array, answers: string | undefined): Promise<void> {
    const entry = this.#options.currentEntry();
    const { client, serverId } = this.#options;
    const args = [
      serverId,
      this.ttl,
      sequenceId,
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      answers ?? "",
      entry?.shard ?? "",
      entry?.id ?? "",
    ];
    return this.#run(sentScript.run(client, this.key, args));
  }

  received(sequenceId: number, opened: readonly string[], closed: readonly string[]): Promise<void> {
    const { client, serverId } = this.#options;
    return this.#run(receivedScript.run(client, this.key, [serverId, this.ttl, sequenceId, opened.length, ...opened, ...closed]));
  }

  acknowledged(sequenceId: number): void {
    const { client, serverId, logger } = this.#options;
    // Nothing waits for it: a failed one leaves acknowledged messages in the hash, which a resume sends again and the client drops.
    acknowledgedScript.run(client, this.key, [serverId, sequenceId]).catch((error: unknown) =>
      logger.log("debug", "Could not drop acknowledged messages of a kept connection.", {
        connectionId: this.#connectionId,
        error: (error as Error).message,
      }),
    );
  }

  group(action: "add" | "remove", group: string): Promise<void> {
    const { client, serverId } = this.#options;
    return this.#run(groupScript.run(client, this.key, [serverId, action, group]));
  }

  ended(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#kept.forget(this.#connectionId, this);
    const { client, serverId, logger } = this.#options;
    endedScript.run(client, this.key, [serverId]).catch((error: unknown) =>
      logger.log("debug", "Could not delete an ended connection's kept state; it expires.", {
        connectionId: this.#connectionId,
        error: (error as Error).message,
      }),
    );
  }

  async #run(store: Promise<unknown>): Promise<void> {
    const answer = await this.#kept.track(store);
    if (answer !== 1) throw new StoreRefused("The connection's kept state is gone or held by another node.");
  }
}

/** The hash of a connection: by a digest of its token, which is a secret. */
function hashKey(base: string, token: string): string {
  return `${base}:kept:{${createHash("sha256").update(token).digest("hex")}}`;
}

function leaseKey(base: string, serverId: string): string {
  return `${base}:kept-lease:${serverId}`;
}

function positionKey(base: string, serverId: string): string {
  return `${base}:kept-position:${serverId}`;
}

/** A hash outlives its last write by the reconnect window and the time a takeover waits for a lease. */
function ttlOf(reconnectWindowMs: number, options: KeptConnectionsOptions): number {
  return reconnectWindowMs + 4 * options.heartbeatIntervalMs;
}

/** HGETALL's flat reply, read by field. */
function readHash(flat: readonly Buffer[]) {
  const fields = new Map<string, Buffer>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i]!.toString("utf8"), flat[i + 1]!);
  return {
    text: (name: string) => fields.get(name)?.toString("utf8") ?? "",
    bytes: (name: string): Uint8Array | undefined => fields.get(name),
    /** The fields named `prefix<rest>`, as `[rest, value]`. */
    prefixed: (prefix: string): Array<[string, Buffer]> =>
      [...fields].filter(([name]) => name.startsWith(prefix)).map(([name, value]) => [name.slice(prefix.length), value]),
  };
}
