/**
 * A structural check of one MessagePack record before it is decoded. The decoder allocates an
 * array as large as its header claims, so a 10-byte record claiming 2^32 elements, or thousands of
 * nested headers each claiming 30,000, would allocate far more than the record's size. This walk
 * allocates nothing: it refuses any length larger than the bytes left, any nesting deeper than
 * `maxDepth`, the never-used byte 0xC1 and trailing bytes. After it passes, every container's
 * claimed size is backed by real bytes, so decoding allocates in proportion to the record.
 *
 * @module
 */
import { ErrorCode, ProtocolError } from "@hubwire/protocol";

function malformed(message: string): ProtocolError {
  return new ProtocolError(ErrorCode.MalformedMessage, message);
}

/**
 * Checks that `bytes` hold exactly one well-formed MessagePack value nested at most `maxDepth` deep.
 * Given `elementStarts`, it appends the offset of each element of the outermost container as the
 * walk reaches it: after a throw, the last one is the element at fault.
 *
 * @throws {ProtocolError} `MalformedMessage` or `NestingTooDeep`.
 * @example
 * ```ts
 * checkMessagePackBounds(record, 64); // throws before a decoder sees a truncated or too deeply nested record
 * const message = decode(record);
 * ```
 */
export function checkMessagePackBounds(bytes: Uint8Array, maxDepth: number, elementStarts?: number[]): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  let offset = 0;
  // Values still to read at each open container, innermost last.
  const open: number[] = [];
  let toRead = 1;

  const need = (count: number): void => {
    if (count > end - offset) throw malformed("The message is truncated or a length in it is bogus.");
  };
  const enter = (count: number): void => {
    // Each element takes at least one byte, so a count above the bytes left is a lie.
    need(count);
    if (count === 0) return;
    if (open.length >= maxDepth) {
      throw new ProtocolError(ErrorCode.NestingTooDeep, `The message nests deeper than ${maxDepth} levels.`);
    }
    open.push(toRead);
    toRead = count;
  };
  const skip = (count: number): void => {
    need(count);
    offset += count;
  };
  const readLength = (size: 1 | 2 | 4): number => {
    need(size);
    const value = size === 1 ? view.getUint8(offset) : size === 2 ? view.getUint16(offset) : view.getUint32(offset);
    offset += size;
    return value;
  };

  for (;;) {
    if (toRead === 0) {
      if (open.length === 0) break;
      toRead = open.pop()!;
      continue;
    }
    toRead--;
    need(1);
    if (elementStarts !== undefined && open.length === 1) elementStarts.push(offset);
    const byte = bytes[offset++]!;
    if (byte <= 0x7f || byte >= 0xe0) continue; // fixints
    if (byte <= 0x8f)
      enter((byte & 0x0f) * 2); // fixmap
    else if (byte <= 0x9f)
      enter(byte & 0x0f); // fixarray
    else if (byte <= 0xbf)
      skip(byte & 0x1f); // fixstr
    else
      switch (byte) {
        case 0xc0: // nil
        case 0xc2: // false
        case 0xc3: // true
          break;
        case 0xc1:
          throw malformed("The byte 0xC1 is never used in MessagePack.");
        case 0xc4: // bin 8
        case 0xd9: // str 8
          skip(readLength(1));
          break;
        case 0xc5: // bin 16
        case 0xda: // str 16
          skip(readLength(2));
          break;
        case 0xc6: // bin 32
        case 0xdb: // str 32
          skip(readLength(4));
          break;
        case 0xc7: // ext 8, 16, 32: length, type, data
          skip(readLength(1) + 1);
          break;
        case 0xc8:
          skip(readLength(2) + 1);
          break;
        case 0xc9:
          skip(readLength(4) + 1);
          break;
        case 0xca: // float 32
          skip(4);
          break;
        case 0xcb: // float 64
          skip(8);
          break;
        case 0xcc: // uint 8, 16, 32, 64
        case 0xd0: // int 8, 16, 32, 64
          skip(1);
          break;
        case 0xcd:
        case 0xd1:
          skip(2);
          break;
        case 0xce:
        case 0xd2:
          skip(4);
          break;
        case 0xcf:
        case 0xd3:
          skip(8);
          break;
        case 0xd4: // fixext 1, 2, 4, 8, 16: type, data
          skip(2);
          break;
        case 0xd5:
          skip(3);
          break;
        case 0xd6:
          skip(5);
          break;
        case 0xd7:
          skip(9);
          break;
        case 0xd8:
          skip(17);
          break;
        case 0xdc: // array 16, 32
          enter(readLength(2));
          break;
        case 0xdd:
          enter(readLength(4));
          break;
        case 0xde: // map 16, 32: twice as many values as entries
          enter(readLength(2) * 2);
          break;
        case 0xdf:
          enter(readLength(4) * 2);
          break;
      }
  }
  if (offset !== end) throw malformed(`The message has ${end - offset} byte(s) after its value.`);
}
