/**
 * A bounded set of sequence numbers kept as sorted, disjoint ranges: a sender's sends that failed
 * (and so may or may not be in the stream). Failures come in runs (an outage fails every send
 * in it), so thousands of them are a handful of ranges, cheap to carry in every entry.
 *
 * @module
 */

/** Ranges kept at most; past it the oldest are forgotten (a reader may then count one of them as lost: loud, never silent). */
const defaultMaxRanges = 256;

/**
 * @example
 * ```ts
 * const failed = new SeqRanges();
 * failed.add(4); failed.add(5); failed.add(9);
 * failed.toArray();   // [4, 5, 9, 9]  (start, end pairs)
 * failed.delete(5);
 * SeqRanges.has([4, 4, 9, 9], 9); // true
 * ```
 */
export class SeqRanges {
  readonly #maxRanges: number;
  /** [start, end] pairs, sorted, disjoint, not adjacent. */
  #ranges: Array<[number, number]> = [];
  #encoded: number[] | undefined = [];

  constructor(maxRanges = defaultMaxRanges) {
    this.#maxRanges = maxRanges;
  }

  get size(): number {
    return this.#ranges.length;
  }

  add(seq: number): void {
    const ranges = this.#ranges;
    const last = ranges[ranges.length - 1];
    this.#encoded = undefined;
    // The common case: failures arrive in increasing order.
    if (last === undefined || seq > last[1] + 1) ranges.push([seq, seq]);
    else if (seq === last[1] + 1) last[1] = seq;
    else {
      const index = this.#indexOf(seq);
      if (index >= 0) return;
      ranges.splice(-index - 1, 0, [seq, seq]);
      this.#merge(-index - 1);
    }
    if (ranges.length > this.#maxRanges) ranges.shift();
  }

  delete(seq: number): void {
    const index = this.#indexOf(seq);
    if (index < 0) return;
    this.#encoded = undefined;
    const [start, end] = this.#ranges[index]!;
    const replacement: Array<[number, number]> = [];
    if (start < seq) replacement.push([start, seq - 1]);
    if (seq < end) replacement.push([seq + 1, end]);
    this.#ranges.splice(index, 1, ...replacement);
  }

  /** Flat `[start, end, start, end, ...]`, what an entry carries (cached until the set changes). */
  toArray(): readonly number[] {
    this.#encoded ??= this.#ranges.flat();
    return this.#encoded;
  }

  /** Whether the flat ranges of an entry hold `seq`. */
  static has(flat: readonly number[], seq: number): boolean {
    for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i]! <= seq && seq <= flat[i + 1]!) return true;
    return false;
  }

  /** The range index holding `seq`, or `-(insertion point) - 1`. */
  #indexOf(seq: number): number {
    let low = 0;
    let high = this.#ranges.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const [start, end] = this.#ranges[middle]!;
      if (seq < start) high = middle - 1;
      else if (seq > end) low = middle + 1;
      else return middle;
    }
    return -low - 1;
  }

  /** Joins the range at `index` with adjacent neighbours. */
  #merge(index: number): void {
    const ranges = this.#ranges;
    const next = ranges[index + 1];
    if (next !== undefined && next[0] === ranges[index]![1] + 1) {
      ranges[index]![1] = next[1];
      ranges.splice(index + 1, 1);
    }
    const previous = ranges[index - 1];
    if (previous !== undefined && previous[1] + 1 === ranges[index]![0]) {
      previous[1] = ranges[index]![1];
      ranges.splice(index, 1);
    }
  }
}
