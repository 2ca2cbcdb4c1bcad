/**
 * The last step of a backplane send: an invocation received from another node is written, as the
 * bytes its sender encoded per protocol, to the connections on this node that its target names.
 *
 * @module
 */
import { MessageType } from "@hubwire/protocol";
import { type Logger, type ManagedConnection, type SendTarget, SerializedMessage } from "@hubwire/server";
import type { EnvelopeKind, EnvelopeOf } from "./envelope.js";
import { backplaneProtocols } from "./send-fanout.js";

type InvocationEnvelope = EnvelopeOf<typeof EnvelopeKind.Invocation>;

/**
 * The send target an invocation envelope names.
 *
 * @example
 * ```ts
 * targetOf({ ...envelope, target: "groups", names: ["room"], excluded: ["c1"] });
 * // { kind: "groups", groups: ["room"], excludedConnectionIds: ["c1"] }
 * ```
 */
export function targetOf(envelope: InvocationEnvelope): SendTarget {
  switch (envelope.target) {
    case "all":
      return { kind: "all", excludedConnectionIds: envelope.excluded };
    case "connections":
      return { kind: "connections", connectionIds: envelope.names };
    case "groups":
      return { kind: "groups", groups: envelope.names, excludedConnectionIds: envelope.excluded };
    case "users":
      return { kind: "users", userIds: envelope.names };
  }
}

/**
 * Writes a received invocation to the local connections its target names. A connection that
 * cannot take it is logged and skipped; nobody awaits a delivery here.
 *
 * @example
 * ```ts
 * router = new BackplaneRouter({ ...options, onInvocation: (envelope) => deliverLocally(local, envelope, logger) });
 * ```
 */
export function deliverLocally(local: { resolve(target: SendTarget): Iterable<ManagedConnection> }, envelope: InvocationEnvelope, logger: Logger): void {
  // An encoding the sender did not include (its view of this node's protocols was behind) is made here.
  const serialized = SerializedMessage.fromEncoded(MessageType.Invocation, envelope.encoded, backplaneProtocols);
  const failed = (connection: ManagedConnection, error: unknown) =>
    logger.log("warn", "A backplane message could not be written to a connection.", { connectionId: connection.connectionId, error: (error as Error).message });
  for (const connection of local.resolve(targetOf(envelope))) {
    try {
      // A write may fail at once (throw) or later (reject): both are logged, neither stops the others.
      connection.write(serialized)?.catch((error: unknown) => failed(connection, error));
    } catch (error) {
      failed(connection, error);
    }
  }
}
