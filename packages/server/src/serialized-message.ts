/**
 * A hub message serialized at most once per protocol, however many connections receive it.
 *
 * @module
 */
import type { HubMessage, HubProtocol } from "@hubwire/protocol";

/**
 * Wraps a message for fan-out: `bytesFor(protocol)` encodes on first use and returns the same
 * bytes to every later connection of that protocol. A backplane can pass bytes it received
 * already encoded, so a message is never re-encoded on the node that delivers it.
 *
 * @example
 * ```ts
 * const serialized = new SerializedMessage(message);
 * for (const connection of members) connection.write(serialized);
 * ```
 */
export class SerializedMessage {
  readonly message: HubMessage;
  readonly #bytes: Map<string, Uint8Array>;

  constructor(message: HubMessage, preEncoded?: ReadonlyMap<string, Uint8Array>) {
    this.message = message;
    this.#bytes = new Map(preEncoded);
  }

  /** The message as one complete record of `protocol` (UTF-8 bytes for text protocols). */
  bytesFor(protocol: HubProtocol): Uint8Array {
    let bytes = this.#bytes.get(protocol.name);
    if (bytes === undefined) {
      const written = protocol.write(this.message);
      bytes = typeof written === "string" ? Buffer.from(written, "utf8") : written;
      this.#bytes.set(protocol.name, bytes);
    }
    return bytes;
  }
}
