/**
 * One entry of a durable-delivery stream: the invocation envelope (envelope.ts) and what a
 * reader needs to tell a loss from a failure the sender already reported: who sent it, its
 * number among that sender's messages, and the numbers of that sender's sends that failed.
 *
 * Fields (XADD field/value pairs): `s` sender id, `q` sequence number, `d` failed sequence
 * ranges as `start-end,start-end` (absent when none), `m` the envelope bytes.
 *
 * @module
 */

/** One entry, as a reader sees it. */
export interface StreamEntry {
  /** The entry's stream id (`ms-seq`). */
  readonly id: string;
  readonly senderId: string;
  /** The sender's number for this message: 1, 2, 3... in the order it sent them. */
  readonly seq: number;
  /** Flat `[start, end, ...]` ranges of the sender's sends that failed (they may or may not be in the stream). */
  readonly failed: readonly number[];
  readonly envelope: Uint8Array;
}

/**
 * The XADD field/value arguments for an entry.
 *
 * @example
 * ```ts
 * await publisher.xaddBuffer(key, "MAXLEN", "~", "100000", "*", ...entryFields("node-a", 7, [3, 4], envelope));
 * ```
 */
export function entryFields(senderId: string, seq: number, failed: readonly number[], envelope: Uint8Array): Array<string | Buffer> {
  const fields: Array<string | Buffer> = ["s", senderId, "q", String(seq)];
  if (failed.length > 0) {
    const ranges: string[] = [];
    for (let i = 0; i + 1 < failed.length; i += 2) ranges.push(`${failed[i]}-${failed[i + 1]}`);
    fields.push("d", ranges.join(","));
  }
  fields.push("m", Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength));
  return fields;
}

/**
 * Reads an entry from XREAD's `[id, [field, value, ...]]`; undefined for anything else (the
 * caller logs and skips it, never throws).
 *
 * @example
 * ```ts
 * const entry = readEntry(item); // { id, senderId, seq, failed, envelope } | undefined
 * ```
 */
export function readEntry(item: unknown): StreamEntry | undefined {
  if (!Array.isArray(item) || item.length !== 2 || !Array.isArray(item[1])) return undefined;
  const [rawId, fields] = item as [unknown, unknown[]];
  const id = text(rawId);
  if (id === undefined) return undefined;
  let senderId: string | undefined;
  let seq: number | undefined;
  let failed: number[] = [];
  let envelope: Uint8Array | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1];
    switch (text(fields[i])) {
      case "s":
        senderId = text(value);
        break;
      case "q":
        seq = Number(text(value));
        break;
      case "d":
        failed = (text(value) ?? "").split(",").flatMap((range) => range.split("-").map(Number));
        break;
      case "m":
        if (value instanceof Uint8Array) envelope = value;
        break;
    }
  }
  if (senderId === undefined || seq === undefined || !Number.isSafeInteger(seq) || envelope === undefined) return undefined;
  if (failed.length % 2 !== 0 || !failed.every(Number.isSafeInteger)) return undefined;
  return { id, senderId, seq, failed, envelope };
}

const text = (value: unknown): string | undefined =>
  typeof value === "string" ? value : value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8") : undefined;
