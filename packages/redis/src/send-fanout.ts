/**
 * The first step of a backplane send: which channels a send target needs beyond this node, and
 * the one invocation envelope they all carry (one message id, so a node reached through two
 * channels delivers it once). The invocation is encoded once per protocol here, and written as
 * received on the other nodes.
 *
 * @module
 */
import { type HubProtocol, JsonHubProtocol } from "@hubwire/protocol";
import { MessagePackHubProtocol } from "@hubwire/protocol-msgpack";
import type { SendTarget, SerializedMessage } from "@hubwire/server";
import type { HubChannels } from "./channels.js";
import { EnvelopeKind, encodeEnvelope, type TargetKind } from "./envelope.js";

/** One publish a send needs. */
export interface RemotePublish {
  readonly channel: string;
  readonly payload: Uint8Array;
  /** On the `all` channel: checked to reach every node alive around an outage. */
  readonly toAll: boolean;
}

export interface SendFanoutOptions {
  readonly channels: HubChannels;
  readonly serverId: string;
  /** A new message id, unique across nodes. */
  newId(): string;
  /** Whether this node holds the connection (it was written to directly, not through Redis). */
  isLocal(connectionId: string): boolean;
  /** The protocols the other nodes' connections speak, by name; undefined when a node has not said (then every protocol). */
  remoteProtocols?(): ReadonlySet<string> | undefined;
}

/** The protocols a backplane encodes for: MessagePack first, the one others are made from without loss. */
export const backplaneProtocols: readonly HubProtocol[] = [new MessagePackHubProtocol(), new JsonHubProtocol()];

/**
 * @example
 * ```ts
 * const fanout = new SendFanout({ channels, serverId, newId, isLocal: (id) => local.get(id) !== undefined });
 * for (const { channel, payload, toAll } of fanout.publishesFor({ kind: "groups", groups: ["room"] }, serialized)) {
 *   await publisher.publish(channel, payload, { toAll });
 * }
 * ```
 */
export class SendFanout {
  readonly #options: SendFanoutOptions;

  constructor(options: SendFanoutOptions) {
    this.#options = options;
  }

  /** One publish per channel the target needs, all with the same message id. */
  publishesFor(target: SendTarget, serialized: SerializedMessage): RemotePublish[] {
    const { channels } = this.#options;
    const envelopeFor = (kind: TargetKind, names: readonly string[], excluded: readonly string[] = []) => this.#encode(serialized, kind, names, excluded);
    const each = (names: readonly string[], channelOf: (name: string) => string, payload: Uint8Array) =>
      names.map((name) => ({ channel: channelOf(name), payload, toAll: false }));
    switch (target.kind) {
      case "all":
        return [{ channel: channels.all, payload: envelopeFor("all", [], target.excludedConnectionIds), toAll: true }];
      case "connections": {
        const remote = [...new Set(target.connectionIds)].filter((id) => !this.#options.isLocal(id));
        if (remote.length === 0) return [];
        return each(remote, (id) => channels.connection(id), envelopeFor("connections", remote));
      }
      case "groups": {
        const groups = [...new Set(target.groups)];
        return each(groups, (group) => channels.group(group), envelopeFor("groups", groups, target.excludedConnectionIds));
      }
      case "users": {
        const users = [...new Set(target.userIds)];
        return each(users, (user) => channels.user(user), envelopeFor("users", users));
      }
    }
  }

  /**
   * Durable delivery: the one envelope a send needs, for every node to read from the stream (each
   * delivers it to the connections it holds that the target names); undefined when the target
   * names only connections this node holds.
   */
  envelopeFor(target: SendTarget, serialized: SerializedMessage): { readonly messageId: string; readonly payload: Uint8Array } | undefined {
    const messageId = this.#options.newId();
    const envelope = (kind: TargetKind, names: readonly string[], excluded: readonly string[] = []) => ({
      messageId,
      payload: this.#encode(serialized, kind, names, excluded, messageId),
    });
    switch (target.kind) {
      case "all":
        return envelope("all", [], target.excludedConnectionIds);
      case "connections": {
        const remote = [...new Set(target.connectionIds)].filter((id) => !this.#options.isLocal(id));
        return remote.length === 0 ? undefined : envelope("connections", remote);
      }
      case "groups":
        return envelope("groups", [...new Set(target.groups)], target.excludedConnectionIds);
      case "users":
        return envelope("users", [...new Set(target.userIds)]);
    }
  }

  /**
   * Only what the other nodes' connections read: a node whose connections all speak JSON is sent no
   * MessagePack. With none to read (or a node that has not said), MessagePack at least: a receiver
   * makes any other encoding from it without loss.
   */
  #protocolsNeeded(): readonly HubProtocol[] {
    const needed = this.#options.remoteProtocols?.();
    if (needed === undefined) return backplaneProtocols;
    const chosen = backplaneProtocols.filter((protocol) => needed.has(protocol.name));
    return chosen.length > 0 ? chosen : [backplaneProtocols[0]!];
  }

  #encode(
    serialized: SerializedMessage,
    target: TargetKind,
    names: readonly string[],
    excluded: readonly string[],
    messageId = this.#options.newId(),
  ): Uint8Array {
    return encodeEnvelope({
      kind: EnvelopeKind.Invocation,
      messageId,
      serverId: this.#options.serverId,
      target,
      names,
      excluded,
      encoded: new Map(this.#protocolsNeeded().map((protocol) => [protocol.name, serialized.bytesFor(protocol)])),
    });
  }
}
