import { ErrorCode } from "@hubwire/protocol";
import { describe, expect, it } from "vitest";
import { BinaryRecordReader, lengthPrefixSize, writeBinaryRecord, writeLengthPrefix } from "./binary-framing.js";

const prefix = (length: number) => {
  const bytes = new Uint8Array(5);
  return [...bytes.subarray(0, writeLengthPrefix(length, bytes, 0))];
};

describe("VarInt length prefix", () => {
  it("writes SignalR's examples and every boundary from 1 to 5 bytes", () => {
    expect(prefix(0)).toEqual([0x00]);
    expect(prefix(127)).toEqual([0x7f]);
    expect(prefix(128)).toEqual([0x80, 0x01]);
    expect(prefix(5248)).toEqual([0x80, 0x29]);
    expect(prefix(2 ** 14 - 1)).toEqual([0xff, 0x7f]);
    expect(prefix(2 ** 14)).toEqual([0x80, 0x80, 0x01]);
    expect(prefix(2 ** 21)).toEqual([0x80, 0x80, 0x80, 0x01]);
    expect(prefix(2 ** 28)).toEqual([0x80, 0x80, 0x80, 0x80, 0x01]);
    expect(prefix(2 ** 31 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x07]);
    for (const length of [0, 127, 128, 2 ** 14, 2 ** 21, 2 ** 28, 2 ** 31 - 1]) {
      expect(lengthPrefixSize(length)).toBe(prefix(length).length);
    }
  });

  it("reads what it writes, with the prefix split across chunks at every point", () => {
    const record = writeBinaryRecord(new Uint8Array(300).fill(7));
    for (let cut = 0; cut <= record.length; cut++) {
      const reader = new BinaryRecordReader();
      const records = [...reader.push(record.subarray(0, cut)), ...reader.push(record.subarray(cut))];
      expect(records).toHaveLength(1);
      expect(records[0]).toEqual(new Uint8Array(300).fill(7));
      expect(reader.bufferedBytes).toBe(0);
    }
  });

  it("reads over-long prefixes, as SignalR's readers do", () => {
    const reader = new BinaryRecordReader();
    expect(reader.push(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x00, 0x81, 0x80, 0x00, 0x09))).toEqual([new Uint8Array(0), Uint8Array.of(0x09)]);
  });

  it("refuses FF FF FF FF FF, a prefix over 2 GB", () => {
    expect(() => new BinaryRecordReader().push(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff))).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidLengthPrefix }),
    );
    expect(() => new BinaryRecordReader().push(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x08))).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidLengthPrefix }),
    );
  });

  it("refuses a length over the limit as soon as the prefix is read, holding none of the record", () => {
    const reader = new BinaryRecordReader({ maxMessageBytes: 1000 });
    expect(() => reader.push(Uint8Array.of(0xe9, 0x07))).toThrow(expect.objectContaining({ code: ErrorCode.MessageTooLarge }));
    const atLimit = new BinaryRecordReader({ maxMessageBytes: 1000 });
    expect(atLimit.push(Uint8Array.of(0xe8, 0x07))).toEqual([]);
    expect(atLimit.bufferedBytes).toBe(0);
  });

  it("holds only the bytes that arrived of an unfinished record", () => {
    const reader = new BinaryRecordReader();
    reader.push(Uint8Array.of(0x80, 0x80, 0x01, 1, 2, 3)); // claims 16 KB
    expect(reader.bufferedBytes).toBe(3);
  });

  it("copies held bytes, so the caller may reuse its buffer", () => {
    const reader = new BinaryRecordReader();
    const chunk = Uint8Array.of(0x03, 1, 2);
    reader.push(chunk);
    chunk.fill(0);
    expect(reader.push(Uint8Array.of(3))).toEqual([Uint8Array.of(1, 2, 3)]);
  });
});
