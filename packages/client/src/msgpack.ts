/**
 * The MessagePack protocol for the client, as its own entry point so that JSON-only apps never
 * load a MessagePack codec.
 *
 * @module
 * @example
 * ```ts
 * import { HubConnection } from "@hubwire/client";
 * import { MessagePackHubProtocol } from "@hubwire/client/msgpack";
 *
 * const connection = new HubConnection<Chat>("/chat", { protocol: new MessagePackHubProtocol() });
 * ```
 */
import { type MessagePackHubProtocolOptions, MessagePackHubProtocol as ServerMessagePackHubProtocol } from "@hubwire/protocol-msgpack";

export type { MessagePackHubProtocolOptions } from "@hubwire/protocol-msgpack";

/**
 * SignalR's MessagePack hub protocol with a client's defaults: messages of any size are read, as
 * the official client reads them (the 32 KB default of `@hubwire/protocol-msgpack` is a server's
 * limit on what untrusted clients send). `maxMessageBytes` still sets a limit.
 *
 * @example
 * ```ts
 * new HubConnection<Chat>("/chat", { protocol: new MessagePackHubProtocol({ maxMessageBytes: 1024 * 1024 }) });
 * ```
 */
export class MessagePackHubProtocol extends ServerMessagePackHubProtocol {
  constructor(options: MessagePackHubProtocolOptions = {}) {
    super({ maxMessageBytes: Infinity, ...options });
  }
}
