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
export { MessagePackHubProtocol, type MessagePackHubProtocolOptions } from "@hubwire/protocol-msgpack";
