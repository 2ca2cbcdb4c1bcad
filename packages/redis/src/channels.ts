/**
 * Redis channel names for one hub. Every variable part is escaped (`%` and `:` percent-encoded),
 * so no group, user or hub name can reach another's channel: `a:b` as a group and `a` as a hub
 * with group `b` stay apart. Channels are used with SUBSCRIBE/SSUBSCRIBE, never pattern
 * subscriptions, so `*`, `?` and `[` are plain characters.
 *
 * @module
 */

/**
 * Percent-encodes the characters that structure a channel name.
 *
 * @example
 * ```ts
 * escapeChannelPart("eu:west%1"); // "eu%3Awest%251"
 * ```
 */
export function escapeChannelPart(part: string): string {
  return part.replace(/%/g, "%25").replace(/:/g, "%3A");
}

/**
 * The channels of one hub, under `{prefix}:{hub}`.
 *
 * @example
 * ```ts
 * const channels = new HubChannels("myapp", "chat");
 * channels.group("room:1"); // "myapp:chat:group:room%3A1"
 * ```
 */
export class HubChannels {
  readonly base: string;

  constructor(prefix: string, hubName: string) {
    this.base = `${escapeChannelPart(prefix)}:${escapeChannelPart(hubName)}`;
  }

  /** Every node: sends to all connections. */
  get all(): string {
    return `${this.base}:all`;
  }

  /** Every node: group add/remove for connections held elsewhere. */
  get groupCommands(): string {
    return `${this.base}:internal:groups`;
  }

  /** One node's own channel: acknowledgements and client results addressed to it. */
  server(serverId: string): string {
    return `${this.base}:internal:server:${escapeChannelPart(serverId)}`;
  }

  /** The node that holds the connection. */
  connection(connectionId: string): string {
    return `${this.base}:connection:${escapeChannelPart(connectionId)}`;
  }

  /** Nodes with at least one local member of the group. */
  group(name: string): string {
    return `${this.base}:group:${escapeChannelPart(name)}`;
  }

  /** Nodes with at least one connection of the user. */
  user(userId: string): string {
    return `${this.base}:user:${escapeChannelPart(userId)}`;
  }
}
