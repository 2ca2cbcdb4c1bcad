/**
 * Loss counting for durable delivery: the last number read from each sender of a stream. A
 * sender numbers its messages 1, 2, 3...; when the next one read skips numbers, those that the
 * sender did not report failed (the entry lists its failures) were stored and never read: lost,
 * exactly counted, however they went (trimmed before this node read them, or gone with a Redis
 * that restarted without persistence).
 *
 * @module
 */
import type { StreamEntry } from "./stream-entry.js";

/** Senders remembered at most (least recently heard forgotten first): memory stays bounded as nodes come and go. */
const defaultMaxSenders = 1_024;

/** When an entry was read: the reader's generation (one per life of the stream) and how many loss incidents it had reported. */
export interface ReadMark {
  readonly generation: number;
  readonly incidents: number;
}

/** Messages of one sender that were stored and never read. */
export interface SequenceGap {
  readonly senderId: string;
  readonly lost: number;
  /** The last number read before the gap, and the one after it. */
  readonly after: number;
  readonly before: number;
  /** The gap began in an earlier life of the stream (Redis restarted without its data). */
  readonly acrossGenerations: boolean;
  /** An incident reported since the sender was last heard explains it (its connections were closed already). */
  readonly explained: boolean;
}

/**
 * @example
 * ```ts
 * const sequences = new SenderSequences();
 * sequences.observe(entry(1), mark); // undefined: the first heard of a sender sets where it stands
 * sequences.observe(entry(4), mark); // { lost: 2, ... } unless 2 or 3 are in the entry's failed ranges
 * ```
 */
export class SenderSequences {
  readonly #maxSenders: number;
  readonly #senders = new Map<string, { seq: number } & ReadMark>();

  constructor(maxSenders = defaultMaxSenders) {
    this.#maxSenders = maxSenders;
  }

  /** Reads one entry's number; a gap it reveals, if any. A number already passed (a retry, a resend) changes nothing. */
  observe(entry: Pick<StreamEntry, "senderId" | "seq" | "failed">, mark: ReadMark): SequenceGap | undefined {
    const known = this.#senders.get(entry.senderId);
    if (known !== undefined && entry.seq <= known.seq) return undefined;
    // Re-inserted: the map's order is the order senders were last heard.
    this.#senders.delete(entry.senderId);
    this.#senders.set(entry.senderId, { seq: entry.seq, ...mark });
    if (this.#senders.size > this.#maxSenders) this.#senders.delete(this.#senders.keys().next().value!);
    if (known === undefined || entry.seq === known.seq + 1) return undefined;
    const lost = entry.seq - known.seq - 1 - countWithin(entry.failed, known.seq + 1, entry.seq - 1);
    if (lost <= 0) return undefined;
    return {
      senderId: entry.senderId,
      lost,
      after: known.seq,
      before: entry.seq,
      acrossGenerations: known.generation !== mark.generation,
      explained: known.incidents < mark.incidents,
    };
  }
}

/** How many numbers of the flat ranges lie in [from, to]. */
function countWithin(flat: readonly number[], from: number, to: number): number {
  let count = 0;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const start = Math.max(flat[i]!, from);
    const end = Math.min(flat[i + 1]!, to);
    if (end >= start) count += end - start + 1;
  }
  return count;
}
