/**
 * The records a connection writes within one turn of the event loop, sent as one transport write.
 *
 * A reply to each of 16 requests that arrived in one TCP read, or 100 broadcasts asked for back
 * to back, then cost one WebSocket frame and one system call instead of one each. Every SignalR
 * client reads several records from one frame (JSON records end with 0x1E, MessagePack records
 * carry their length), and ASP.NET Core's own server writes them the same way.
 *
 * @module
 */

/** Where a batch's chunk goes when it is flushed. */
export interface OutboundSink {
  writeBatch(chunk: Uint8Array): void;
}

/** Batches with something queued, flushed together once per turn. */
let dirty: OutboundBatch[] = [];

function flushDirty(): void {
  const batches = dirty;
  dirty = [];
  for (const batch of batches) batch.flush();
}

/**
 * Node runs a `process.nextTick` queued from a microtask only once the microtask queue is empty,
 * so replies that promise jobs produce (invocations running one after another) join the batch.
 * One flush for every connection: a broadcast to 2,000 connections schedules once, not 2,000 times.
 */
function scheduleFlush(): void {
  process.nextTick(flushDirty);
}

/**
 * The most bytes one batch carries. Past it, what is batched leaves at once and a new batch
 * begins: 2,000 messages sent in one turn reach the client as a run of frames it can dispatch as
 * they arrive, not as one frame it must receive whole first. Chosen from apps/bench (see
 * docs/benchmarks.md): 16 replies of 1 KiB make about 16.6 KB and a burst of broadcasts at most
 * 7 KB, so 32 KiB never splits them; 16 KiB cost 5-7% at 16 calls in flight with 1 KiB payloads.
 */
export const MAX_BATCH_BYTES = 32 * 1024;

/** What an empty batch holds: one frozen array for all, so an idle connection keeps none of its own. */
const noRecords: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];

/**
 * Coalesces records until the current turn's work is done, then hands them to its sink's
 * `writeBatch` as one chunk; a batch that reaches {@link MAX_BATCH_BYTES} is handed over at once.
 *
 * @example
 * ```ts
 * const batch = new OutboundBatch({ writeBatch: (chunk) => transport.send(chunk, false) });
 * batch.add(first);
 * batch.add(second); // both leave in one write, after the current turn
 * ```
 */
export class OutboundBatch {
  #records: Uint8Array[] = noRecords;
  #bytes = 0;
  readonly #sink: OutboundSink;

  /** `sink` writes each flushed chunk (its connection: a closure per connection would cost memory). */
  constructor(sink: OutboundSink) {
    this.#sink = sink;
  }

  add(record: Uint8Array): void {
    if (this.#records !== noRecords && this.#bytes + record.byteLength > MAX_BATCH_BYTES) {
      // Full: what is batched leaves now; this record starts the next batch (still in this turn's flush).
      this.flush();
    }
    this.#bytes += record.byteLength;
    if (this.#records !== noRecords) {
      this.#records.push(record);
      return;
    }
    this.#records = [record];
    if (dirty.push(this) === 1) queueMicrotask(scheduleFlush);
  }

  /** Writes what is queued now (before a close, say); the scheduled flush then finds nothing. */
  flush(): void {
    const records = this.#records;
    if (records.length === 0) return;
    const chunk = records.length === 1 ? records[0]! : Buffer.concat(records, this.#bytes);
    this.discard();
    this.#sink.writeBatch(chunk);
  }

  /** Drops what is queued: its transport is gone (a stateful connection replays from its own buffer). */
  discard(): void {
    this.#records = noRecords;
    this.#bytes = 0;
  }
}
