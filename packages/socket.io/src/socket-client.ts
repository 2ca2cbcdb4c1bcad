/**
 * One socket.io socket as a Hubwire gateway client: what the hub sends becomes socket.io's own
 * packets. A call to a client method is an event with the method's name and arguments; a client
 * result is the same event with an acknowledgement; the answer to the client's call is the
 * acknowledgement of its event; the end of the connection is a `hubwire:close` event (when there
 * is something to say) and a disconnect.
 *
 * @module
 */
import { ErrorCode, type HubMessage, MessageType, ProtocolError } from "@hubwire/protocol";
import type { GatewayClient, GatewayConnection, Logger, SerializedMessage } from "@hubwire/server";
import type { Socket } from "socket.io";
import * as ws from "ws";
import { answerOf } from "./call-answers.js";
import { type Ack, PendingAcks } from "./pending-acks.js";

/** The event that tells a socket.io client why the hub ended its connection: `{ error?, allowReconnect? }`. */
export const closeEvent = "hubwire:close";

/** Event names socket.io keeps for itself: a hub cannot call client methods with these names. */
const reservedEvents = new Set(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]);

/** socket.io's EVENT packet type (socket.io-parser's `PacketType.EVENT`). */
const eventPacket = 2;

/** ws's frame builder (untyped in @types/ws): what socket.io's adapter frames a broadcast with, once. */
const frameOf = (ws as unknown as { Sender?: { frame?(data: Buffer, options: object): Buffer[] } }).Sender?.frame;

/** A send to many, ready to write: the encoded packets, and the WebSocket frame of a single text packet. */
interface Encoded {
  readonly packets: unknown[];
  readonly options: { readonly preEncoded: true; readonly wsPreEncodedFrame?: Buffer[] };
}

/**
 * A namespace's packets for messages sent to many of its sockets: each encoded once by socket.io's
 * encoder, and written to every socket as it is (what socket.io's own broadcast does), instead of
 * once per socket. `null`: the message cannot be sent to socket.io clients (logged once).
 */
export class SharedPackets {
  readonly #encode: (packet: { type: number; nsp: string; data: unknown[] }) => unknown[];
  readonly #namespace: string;
  readonly #packets = new WeakMap<SerializedMessage, Encoded | null>();

  constructor(encode: (packet: { type: number; nsp: string; data: unknown[] }) => unknown[], namespace: string) {
    this.#encode = encode;
    this.#namespace = namespace;
  }

  /** The encoded packets of a send to many, or why there are none. */
  packetsFor(message: SerializedMessage, decoded: () => HubMessage, failed: (target: string, error: unknown) => void): Encoded | null {
    let encoded = this.#packets.get(message);
    if (encoded !== undefined) return encoded;
    const hubMessage = decoded();
    encoded = null;
    if (hubMessage.type === MessageType.Invocation) {
      try {
        if (reservedEvents.has(hubMessage.target)) throw new Error(`'${hubMessage.target}' is an event name socket.io reserves.`);
        const packets = this.#encode({ type: eventPacket, nsp: this.#namespace, data: [hubMessage.target, ...hubMessage.arguments] });
        const [only] = packets;
        // As socket.io's adapter: one text packet is also framed once ("4": engine.io's message type), for sockets without compression.
        const frame =
          frameOf !== undefined && packets.length === 1 && typeof only === "string"
            ? frameOf(Buffer.from(`4${only}`), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true })
            : undefined;
        encoded = { packets, options: frame === undefined ? { preEncoded: true } : { preEncoded: true, wsPreEncodedFrame: frame } };
      } catch (error) {
        failed(hubMessage.target, error);
      }
    }
    this.#packets.set(message, encoded);
    return encoded;
  }
}

/** The part of socket.io's Client that writes packets already encoded (what socket.io's adapter writes broadcasts with). */
interface PacketWriter {
  _packet(packets: unknown[], options: Encoded["options"]): void;
}

/**
 * Carries one socket.io socket for the hub.
 *
 * @example
 * ```ts
 * const client = new SocketClient(socket, logger, "chat", new SharedPackets((packet) => io.encoder.encode(packet), "/chat"));
 * client.connection = gateway.connect("socket.io", client, admitted, socket.id);
 * ```
 */
export class SocketClient implements GatewayClient {
  /** The hub's side of this socket, once connected. */
  connection: GatewayConnection | undefined;
  readonly #socket: Socket;
  readonly #logger: Logger;
  readonly #hubName: string;
  /** The acknowledgements of the client's calls still running, by the invocation id the hub knows them by. */
  readonly #acks = new PendingAcks();

  readonly #shared: SharedPackets;

  constructor(socket: Socket, logger: Logger, hubName: string, shared: SharedPackets) {
    this.#socket = socket;
    this.#logger = logger;
    this.#hubName = hubName;
    this.#shared = shared;
  }

  /** A send to many (a group, all, a user): the namespace's packets for it, encoded once. */
  deliverShared(message: SerializedMessage, decoded: () => HubMessage): void {
    const encoded = this.#shared.packetsFor(message, decoded, (target, error) =>
      this.#logger.log("warn", "A message could not be sent to socket.io clients.", { hub: this.#hubName, target, error }),
    );
    if (encoded === null) return;
    (this.#socket.client as unknown as PacketWriter)._packet(encoded.packets, encoded.options);
  }

  /** Keeps a call's acknowledgement; the id under which the hub answers it. */
  track(ack: Ack): string {
    return this.#acks.add(ack);
  }

  deliver(message: HubMessage): void {
    switch (message.type) {
      case MessageType.Invocation: {
        const { target, arguments: args, invocationId } = message;
        if (invocationId !== undefined) {
          // A client result: the hub learns why it cannot be sent (ClientResults rejects the call).
          if (reservedEvents.has(target)) throw new ProtocolError(ErrorCode.UnencodableMessage, `'${target}' is an event name socket.io reserves.`);
          assertEncodable(args);
          this.#socket.emit(target, ...args, (response: unknown) => this.connection?.answer(invocationId, answerOf(response)));
          return;
        }
        try {
          if (reservedEvents.has(target)) throw new Error(`'${target}' is an event name socket.io reserves.`);
          this.#socket.emit(target, ...args);
        } catch (error) {
          // A send to many must not fail for the others: this one is logged and skipped.
          this.#logger.log("warn", "A message could not be sent to a socket.io client.", {
            hub: this.#hubName,
            connectionId: this.#socket.id,
            target,
            error,
          });
        }
        return;
      }
      case MessageType.Completion: {
        const answer = message.error !== undefined ? { error: message.error } : message.result;
        // Checked before the acknowledgement is taken, as it sends once: the error the hub sends instead must still find it.
        assertEncodable(answer);
        const ack = this.#acks.take(message.invocationId);
        if (ack === undefined) return;
        if (answer === undefined) ack();
        else ack(answer);
        return;
      }
      default:
        // Stream items, pings and the rest have no socket.io form: streams are refused before they start.
        return;
    }
  }

  end(options: { readonly error?: string; readonly allowReconnect?: boolean }): void {
    this.#acks.clear();
    if (options.error !== undefined || options.allowReconnect !== undefined) this.#socket.emit(closeEvent, options);
    // socket.io clients reconnect by themselves after a transport close, never after a server disconnect.
    if (options.allowReconnect === true) this.#socket.conn.close();
    else this.#socket.disconnect();
  }
}

/** Throws a ProtocolError for a value socket.io's JSON encoding cannot carry (a BigInt, a cycle, a toJSON that throws). */
function assertEncodable(value: unknown): void {
  const kind = typeof value;
  if (kind === "bigint" || kind === "symbol" || kind === "function")
    throw new ProtocolError(ErrorCode.UnencodableMessage, `A ${kind} cannot be sent to a socket.io client.`);
  if (kind !== "object" || value === null) return;
  try {
    JSON.stringify(value);
  } catch (error) {
    throw new ProtocolError(ErrorCode.UnencodableMessage, `The value cannot be sent to a socket.io client: ${(error as Error).message}`, { cause: error });
  }
}
