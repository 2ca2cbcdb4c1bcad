/**
 * A hub message serialized at most once per protocol, however many connections receive it.
 *
 * @module
 */
import type { HubMessage, HubProtocol, MessageType } from "@hubwire/protocol";

/**
 * Wraps a message for fan-out: `bytesFor(protocol)` encodes on first use and returns the same
 * bytes to every later connection of that protocol. A backplane passes the bytes it received
 * already encoded ({@link SerializedMessage.fromEncoded}), so a message is never re-encoded on the
 * node that delivers it.
 *
 * @example
 * ```ts
 * const serialized = new SerializedMessage(message);
 * for (const connection of members) connection.write(serialized);
 * ```
 */
export class SerializedMessage {
  /** The message's type tag (stateful reconnect numbers types 1 to 5). */
  readonly type: MessageType;
  #message: HubMessage | undefined;
  readonly #bytes: Map<string, Uint8Array>;
  /** For a message that came encoded: how to decode it when another encoding is asked for. */
  #decoders: readonly HubProtocol[] = [];

  constructor(message: HubMessage) {
    this.type = message.type;
    this.#message = message;
    this.#bytes = new Map();
  }

  /**
   * A message that exists only as records already encoded, by protocol name. With `decoders`, an
   * encoding it was not given is made from one it was (decoded once with the first of `decoders`
   * it has bytes for, then written): list the lossless one (MessagePack) first.
   */
  static fromEncoded(type: MessageType, encoded: ReadonlyMap<string, Uint8Array>, decoders: readonly HubProtocol[] = []): SerializedMessage {
    const serialized = new SerializedMessage({ type } as HubMessage);
    serialized.#message = undefined;
    serialized.#decoders = decoders;
    for (const [name, bytes] of encoded) serialized.#bytes.set(name, bytes);
    return serialized;
  }

  /**
   * The message itself: the one it was made from, or, for one that came encoded, decoded once from
   * the first of `protocols` it has bytes for (the same object for every later caller).
   */
  messageFor(protocols: readonly HubProtocol[]): HubMessage {
    if (this.#message !== undefined) return this.#message;
    for (const protocol of protocols) {
      const bytes = this.#bytes.get(protocol.name);
      if (bytes === undefined) continue;
      const [message] = protocol.parse(bytes);
      if (message === undefined) break;
      this.#message = message;
      return message;
    }
    throw new Error(`None of the encodings given (${[...this.#bytes.keys()].join(", ")}) can be decoded here.`);
  }

  /** The message as one complete record of `protocol` (UTF-8 bytes for text protocols). */
  bytesFor(protocol: HubProtocol): Uint8Array {
    let bytes = this.#bytes.get(protocol.name);
    if (bytes === undefined) {
      if (this.#message === undefined && this.#decoders.length === 0) throw new Error(`No '${protocol.name}' encoding was given for this message.`);
      const written = protocol.write(this.#message ?? this.messageFor(this.#decoders));
      bytes = typeof written === "string" ? Buffer.from(written, "utf8") : written;
      this.#bytes.set(protocol.name, bytes);
    }
    return bytes;
  }
}
