/**
 * The seam between a connection and a wire format. `JsonHubProtocol` and `MessagePackHubProtocol`
 * both fill it, so servers, clients and tests never branch on the format.
 *
 * @module
 * @example
 * ```ts
 * import { JsonHubProtocol, MessageType, type HubProtocol } from "@hubwire/protocol";
 *
 * const protocol: HubProtocol = new JsonHubProtocol();
 * const parser = protocol.createParser();
 * for (const chunk of chunks) {
 *   for (const message of parser.push(chunk)) console.log(message.type);
 * }
 * socket.send(protocol.write({ type: MessageType.Ping }));
 * ```
 */
import type { TransferFormat } from "./constants.js";
import type { HubMessage } from "./messages.js";
import { isProtocolError, ProtocolError } from "./protocol-error.js";
import * as ErrorCode from "./wire-error-codes.js";

/** A wire format for hub messages. */
export interface HubProtocol {
  /** The name the handshake uses: `"json"` or `"messagepack"`. */
  readonly name: string;
  /** The newest protocol version this implementation speaks (2 adds Ack and Sequence). */
  readonly version: number;
  /** `Text` frames (JSON) or `Binary` frames (MessagePack). */
  readonly transferFormat: TransferFormat;
  /**
   * Parses input made of whole records: one transport frame, or one HTTP body.
   * @throws {ProtocolError} for bad input, including `IncompleteMessage` when the input ends inside a record.
   */
  parse(input: string | Uint8Array): HubMessage[];
  /** A parser for a stream whose records may be split across chunks; one per connection. */
  createParser(): MessageParser;
  /**
   * Serializes one message as one complete record (separator or length prefix included).
   * Text protocols return a string and binary ones a `Uint8Array`.
   * @throws {ProtocolError} `UnencodableMessage` for a value the format cannot carry.
   */
  write(message: HubMessage): string | Uint8Array;
}

/**
 * Parses a stream of chunks; holds at most one unfinished record, bounded by the protocol's limit.
 * `push` reads a chunk whole; `feed` and `next` read it one message at a time, so that a receiver
 * can act on each message before the next is read, as SignalR's dispatch loop does: the messages
 * before a bad record are handled before its error is seen.
 */
export interface MessageParser {
  /**
   * Feeds one chunk and returns the messages it completes.
   * @throws {ProtocolError} for bad input (the chunk's other messages are lost with it). The
   *   parser is not usable after it has thrown.
   */
  push(chunk: string | Uint8Array): HubMessage[];
  /**
   * Feeds one chunk to be read with {@link MessageParser.next}.
   * @example
   * ```ts
   * parser.feed(chunk);
   * for (let message = parser.next(); message !== undefined; message = parser.next()) handle(message);
   * ```
   */
  feed(chunk: string | Uint8Array): void;
  /**
   * The next message of what was fed, or undefined once every complete record was read.
   * @throws {ProtocolError} for a bad record, in order: every message before it has been returned.
   *   An error with an `envelope` refused only that record's payload, and reading can go on with
   *   the next call; after any other error the parser is not usable.
   */
  next(): HubMessage | undefined;
  /** Bytes of an unfinished record held from earlier chunks. */
  readonly bufferedBytes: number;
}

/** Options every hub protocol takes. */
export interface HubProtocolOptions {
  /** The largest record accepted, in bytes. Default 32 KB (SignalR's `MaximumReceiveMessageSize`). */
  readonly maxMessageBytes?: number;
  /**
   * What to do with a message whose `type` is an integer this version does not know: `"ignore"`
   * skips it (the default, as SignalR does, so newer peers can add message types), `"reject"`
   * throws a `ProtocolError` with code `UnknownMessageType`.
   */
  readonly unknownMessageTypes?: "ignore" | "reject";
}

/**
 * Builds a {@link MessageParser} from a record splitter and a record reader, so that every
 * protocol streams, bounds and skips unknown message types the same way.
 *
 * @example
 * ```ts
 * const parser = createMessageParser(new TextRecordReader({ maxMessageBytes }), (record) => readHubMessage(JSON.parse(record)), "ignore");
 * ```
 */
export function createMessageParser<TChunk extends string | Uint8Array, TRecord>(
  records: RecordReader<TChunk, TRecord>,
  read: (record: TRecord) => HubMessage,
  unknownMessageTypes: "ignore" | "reject",
  accept: (chunk: string | Uint8Array) => TChunk = asIs as (chunk: string | Uint8Array) => TChunk,
): MessageParser {
  return new RecordMessageParser(records, read, unknownMessageTypes === "ignore", accept);
}

const asIs = (chunk: string | Uint8Array) => chunk;

/** Splits a stream of chunks into records. */
interface RecordReader<TChunk, TRecord> {
  /** Appends the records `chunk` completes to `records`; throws after those before a bad one. */
  pushInto(chunk: TChunk, records: TRecord[]): void;
  readonly bufferedBytes: number;
}

/**
 * A class rather than an object literal: one parser lives as long as its connection, and a
 * literal's closures and getter cost a few hundred bytes more per connection.
 */
class RecordMessageParser<TChunk extends string | Uint8Array, TRecord> implements MessageParser {
  readonly #records: RecordReader<TChunk, TRecord>;
  readonly #read: (record: TRecord) => HubMessage;
  readonly #skipUnknownTypes: boolean;
  readonly #accept: (chunk: string | Uint8Array) => TChunk;
  /** Records fed and not read yet, from `#nextRecord` on; made on the first feed. */
  #pending: TRecord[] | undefined;
  #nextRecord = 0;
  /** What splitting the records fed last broke on, thrown once the records before it are read. */
  #failure: unknown;

  constructor(
    records: RecordReader<TChunk, TRecord>,
    read: (record: TRecord) => HubMessage,
    skipUnknownTypes: boolean,
    accept: (chunk: string | Uint8Array) => TChunk,
  ) {
    this.#records = records;
    this.#read = read;
    this.#skipUnknownTypes = skipUnknownTypes;
    this.#accept = accept;
  }

  push(chunk: string | Uint8Array): HubMessage[] {
    this.feed(chunk);
    const messages: HubMessage[] = [];
    for (let message = this.next(); message !== undefined; message = this.next()) messages.push(message);
    return messages;
  }

  feed(chunk: string | Uint8Array): void {
    if (this.#failure !== undefined) return;
    const pending = (this.#pending ??= []);
    try {
      this.#records.pushInto(this.#accept(chunk), pending);
    } catch (error) {
      this.#failure = error;
    }
  }

  next(): HubMessage | undefined {
    const pending = this.#pending;
    while (pending !== undefined && this.#nextRecord < pending.length) {
      const record = pending[this.#nextRecord]!;
      // Let go of the record as it is read: a chunk's records may hold its whole buffer.
      pending[this.#nextRecord++] = undefined as TRecord;
      try {
        return this.#read(record);
      } catch (error) {
        // Newer peers may add message types: skip them unless asked to refuse.
        if (this.#skipUnknownTypes && isProtocolError(error) && error.code === ErrorCode.UnknownMessageType) continue;
        throw error;
      }
    }
    if (pending !== undefined) {
      pending.length = 0;
      this.#nextRecord = 0;
    }
    if (this.#failure !== undefined) throw this.#failure;
    return undefined;
  }

  get bufferedBytes(): number {
    return this.#records.bufferedBytes;
  }
}

/** Parses input that must hold whole records only; throws `IncompleteMessage` otherwise. */
export function parseWhole(parser: MessageParser, input: string | Uint8Array, incomplete: string): HubMessage[] {
  const messages = parser.push(input);
  if (parser.bufferedBytes > 0) throw new ProtocolError(ErrorCode.IncompleteMessage, incomplete);
  return messages;
}
