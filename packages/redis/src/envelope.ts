/**
 * What nodes say to each other over Redis, as MessagePack arrays with a kind tag first. Readers
 * accept extra trailing items, so a newer node can add fields for older ones to ignore.
 *
 * @module
 * @example
 * ```ts
 * const bytes = encodeEnvelope({ kind: EnvelopeKind.Ack, requestId: "node1:7" });
 * decodeEnvelope(bytes); // { kind: EnvelopeKind.Ack, requestId: "node1:7" }
 * decodeEnvelope(Buffer.from("junk")); // undefined
 * ```
 */
import { HubMessageEncoder } from "@hubwire/protocol-msgpack";
import type { InspectionRequest, NodeAnswer } from "@hubwire/server";
import { Decoder } from "@msgpack/msgpack";

// One of each for the process: the library's encode()/decode() functions build a new Encoder or
// Decoder (with its 2 KiB buffer) on every call, which showed in profiles at one per message.
// The hub protocol's encoder writes strings with TextEncoder: in a node relaying through Redis,
// building envelopes took 8% of its CPU with it against 12% with the library's.
const encoder = new HubMessageEncoder();
const decoder = new Decoder();
/** A copy of the encoded bytes: the encoder's own buffer is reused by the next call. */
const encode = (value: unknown): Uint8Array => encoder.encode(value);
const decode = (bytes: Uint8Array): unknown => decoder.decode(bytes);

/** Kinds of envelope. */
export const EnvelopeKind = {
  /** An invocation for connections, already encoded per protocol. */
  Invocation: 1,
  /** Add or remove a connection (held by another node) to or from a group. */
  GroupCommand: 2,
  /** A node acknowledges a command or a client-result request. */
  Ack: 3,
  /** Ask the node holding a connection for a client result. */
  ResultRequest: 4,
  /** The client's answer to a result request. */
  ResultResponse: 5,
  /** A node says it is alive (on the `all` channel, every heartbeat interval). */
  Heartbeat: 6,
  /** A node asks every node for its inspection answer (on the `all` channel). */
  InspectRequest: 7,
  /** A node's inspection answer (on the asking node's server channel). */
  InspectResponse: 8,
  /** Ask the node holding a connection to end it (on the connection's channel); acknowledged. */
  DisconnectCommand: 9,
  /** A node's presence changes, numbered (on the `all` channel): connects, disconnects, joins, leaves. */
  PresenceDelta: 10,
  /** A node asks another for its whole presence (on the other's server channel). */
  PresenceSyncRequest: 11,
  /** A node's whole presence, numbered as its last delta (on the asking node's server channel). */
  PresenceSnapshot: 12,
  /** A node asks every node which holds a connection token (on the `all` channel); with `claim`, one that only negotiated it releases it. */
  LocateRequest: 13,
  /** Each node's answer to a locate (on the asking node's server channel). */
  LocateAnswer: 14,
  /** An HTTP request forwarded to the node holding its connection (on that node's server channel). */
  ForwardRequest: 15,
  /** The holder's answer to a forwarded request (on the forwarding node's server channel). */
  ForwardResponse: 16,
  /** The client of a forwarded request went away (on the holder's server channel). */
  ForwardCancel: 17,
  /** A WebSocket relayed to the node holding its connection (on that node's server channel). */
  RelayOpen: 18,
  /** The holder took the relayed WebSocket (101) or refused it (on the opening node's server channel). */
  RelayAnswer: 19,
  /** A WebSocket message carried by a relay, numbered per direction from 0 (on the other node's server channel). */
  RelayFrame: 20,
  /** The holder stopped (or restarted) reading a relayed connection: the client's socket pauses with it. */
  RelayFlow: 21,
  /** A relayed WebSocket closed, with its close code (either way). */
  RelayClose: 22,
} as const;

/** One presence change: connect (with the user, or null), disconnect, join or leave (with the group). */
export type PresenceOp =
  | readonly [op: 0, connectionId: string, userId: string | null]
  | readonly [op: 1, connectionId: string]
  | readonly [op: 2 | 3, connectionId: string, group: string];

/** One connection in a presence snapshot: its id, user and groups. */
export type PresenceRecord = readonly [connectionId: string, userId: string | null, groups: readonly string[]];

/** How an invocation envelope names its recipients. */
export type TargetKind = "all" | "connections" | "groups" | "users";

export type Envelope =
  | {
      readonly kind: typeof EnvelopeKind.Invocation;
      /** Unique per message: a node delivers a message id once, however often it arrives. */
      readonly messageId: string;
      readonly serverId: string;
      readonly target: TargetKind;
      readonly names: readonly string[];
      readonly excluded: readonly string[];
      /** The invocation as a complete record per protocol name. */
      readonly encoded: ReadonlyMap<string, Uint8Array>;
    }
  | {
      readonly kind: typeof EnvelopeKind.GroupCommand;
      readonly requestId: string;
      readonly serverId: string;
      readonly action: "add" | "remove";
      readonly connectionId: string;
      readonly group: string;
    }
  | { readonly kind: typeof EnvelopeKind.Ack; readonly requestId: string }
  | {
      readonly kind: typeof EnvelopeKind.ResultRequest;
      readonly requestId: string;
      readonly serverId: string;
      readonly connectionId: string;
      readonly method: string;
      readonly args: readonly unknown[];
      readonly timeoutMs: number | null;
    }
  | { readonly kind: typeof EnvelopeKind.ResultResponse; readonly requestId: string; readonly error: string | null; readonly result: unknown }
  | {
      readonly kind: typeof EnvelopeKind.Heartbeat;
      readonly serverId: string;
      /** The number of the node's last presence delta: a node that has seen fewer asks for a snapshot. */
      readonly presenceSeq: number;
      /** The hub protocols its connections speak (`json`, `messagepack`): what others encode for it. Absent: all. */
      readonly protocols?: readonly string[];
    }
  | { readonly kind: typeof EnvelopeKind.PresenceDelta; readonly serverId: string; readonly seq: number; readonly ops: readonly PresenceOp[] }
  | { readonly kind: typeof EnvelopeKind.PresenceSyncRequest; readonly serverId: string }
  | { readonly kind: typeof EnvelopeKind.LocateRequest; readonly requestId: string; readonly serverId: string; readonly token: string; readonly claim: boolean }
  | {
      readonly kind: typeof EnvelopeKind.LocateAnswer;
      readonly requestId: string;
      readonly serverId: string;
      /** `none`: not here; `elsewhere`: held by `holder` (the asker forwards there); `claimed`: released to the asker. */
      readonly held: "none" | "elsewhere" | "claimed";
      /** For `elsewhere`: the node holding it (this one, or the one it was released to). */
      readonly holder: string | null;
      readonly connectionId: string | null;
      readonly statefulReconnect: boolean;
    }
  | {
      readonly kind: typeof EnvelopeKind.ForwardRequest;
      readonly requestId: string;
      readonly serverId: string;
      readonly method: string;
      readonly url: string;
      readonly headers: Readonly<Record<string, string>>;
      readonly remoteAddress: string | null;
      readonly body: Uint8Array;
    }
  | {
      readonly kind: typeof EnvelopeKind.ForwardResponse;
      readonly requestId: string;
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: Uint8Array;
    }
  | { readonly kind: typeof EnvelopeKind.ForwardCancel; readonly requestId: string; readonly serverId: string }
  | {
      readonly kind: typeof EnvelopeKind.RelayOpen;
      readonly relayId: string;
      readonly serverId: string;
      readonly url: string;
      readonly headers: Readonly<Record<string, string>>;
      readonly remoteAddress: string | null;
      /** What is relayed: a WebSocket, or an event stream. */
      readonly transport: "websocket" | "events";
    }
  | {
      readonly kind: typeof EnvelopeKind.RelayAnswer;
      readonly relayId: string;
      readonly serverId: string;
      /** Whether the holder took it (its status begins the relay: 101, or 200 for an event stream) or refused it. */
      readonly accepted: boolean;
      readonly status: number;
      /** A refusal's body. */
      readonly message: string;
      readonly headers: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: typeof EnvelopeKind.RelayFrame;
      readonly relayId: string;
      readonly serverId: string;
      readonly seq: number;
      readonly isBinary: boolean;
      readonly data: Uint8Array;
    }
  | { readonly kind: typeof EnvelopeKind.RelayFlow; readonly relayId: string; readonly serverId: string; readonly paused: boolean }
  | { readonly kind: typeof EnvelopeKind.RelayClose; readonly relayId: string; readonly serverId: string; readonly code: number; readonly reason: string }
  | { readonly kind: typeof EnvelopeKind.PresenceSnapshot; readonly serverId: string; readonly seq: number; readonly records: readonly PresenceRecord[] }
  | { readonly kind: typeof EnvelopeKind.InspectRequest; readonly requestId: string; readonly serverId: string; readonly request: InspectionRequest }
  | { readonly kind: typeof EnvelopeKind.InspectResponse; readonly requestId: string; readonly answer: NodeAnswer }
  | { readonly kind: typeof EnvelopeKind.DisconnectCommand; readonly requestId: string; readonly serverId: string; readonly connectionId: string };

/** The envelope of one kind: `EnvelopeOf<typeof EnvelopeKind.Ack>`. */
export type EnvelopeOf<TKind extends Envelope["kind"]> = Extract<Envelope, { readonly kind: TKind }>;

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  switch (envelope.kind) {
    case EnvelopeKind.Invocation:
      return encode([
        envelope.kind,
        envelope.messageId,
        envelope.serverId,
        envelope.target,
        envelope.names,
        envelope.excluded,
        Object.fromEntries(envelope.encoded),
      ]);
    case EnvelopeKind.GroupCommand:
      return encode([envelope.kind, envelope.requestId, envelope.serverId, envelope.action, envelope.connectionId, envelope.group]);
    case EnvelopeKind.Ack:
      return encode([envelope.kind, envelope.requestId]);
    case EnvelopeKind.ResultRequest:
      return encode([envelope.kind, envelope.requestId, envelope.serverId, envelope.connectionId, envelope.method, envelope.args, envelope.timeoutMs]);
    case EnvelopeKind.ResultResponse:
      return encode([envelope.kind, envelope.requestId, envelope.error, envelope.result]);
    case EnvelopeKind.Heartbeat:
      return encode([envelope.kind, envelope.serverId, envelope.presenceSeq, envelope.protocols ?? null]);
    case EnvelopeKind.PresenceDelta:
      return encode([envelope.kind, envelope.serverId, envelope.seq, envelope.ops]);
    case EnvelopeKind.PresenceSyncRequest:
      return encode([envelope.kind, envelope.serverId]);
    case EnvelopeKind.LocateRequest:
      return encode([envelope.kind, envelope.requestId, envelope.serverId, envelope.token, envelope.claim]);
    case EnvelopeKind.LocateAnswer:
      return encode([envelope.kind, envelope.requestId, envelope.serverId, envelope.held, envelope.connectionId, envelope.statefulReconnect, envelope.holder]);
    case EnvelopeKind.ForwardRequest:
      return encode([
        envelope.kind,
        envelope.requestId,
        envelope.serverId,
        envelope.method,
        envelope.url,
        envelope.headers,
        envelope.remoteAddress,
        envelope.body,
      ]);
    case EnvelopeKind.ForwardResponse:
      return encode([envelope.kind, envelope.requestId, envelope.status, envelope.headers, envelope.body]);
    case EnvelopeKind.ForwardCancel:
      return encode([envelope.kind, envelope.requestId, envelope.serverId]);
    case EnvelopeKind.RelayOpen:
      return encode([envelope.kind, envelope.relayId, envelope.serverId, envelope.url, envelope.headers, envelope.remoteAddress, envelope.transport]);
    case EnvelopeKind.RelayAnswer:
      return encode([envelope.kind, envelope.relayId, envelope.serverId, envelope.accepted, envelope.status, envelope.message, envelope.headers]);
    case EnvelopeKind.RelayFrame:
      return encode([envelope.kind, envelope.relayId, envelope.serverId, envelope.seq, envelope.isBinary, envelope.data]);
    case EnvelopeKind.RelayFlow:
      return encode([envelope.kind, envelope.relayId, envelope.serverId, envelope.paused]);
    case EnvelopeKind.RelayClose:
      return encode([envelope.kind, envelope.relayId, envelope.serverId, envelope.code, envelope.reason]);
    case EnvelopeKind.PresenceSnapshot:
      return encode([envelope.kind, envelope.serverId, envelope.seq, envelope.records]);
    case EnvelopeKind.InspectRequest:
      return encode([envelope.kind, envelope.requestId, envelope.serverId, envelope.request]);
    case EnvelopeKind.InspectResponse:
      return encode([envelope.kind, envelope.requestId, envelope.answer]);
    case EnvelopeKind.DisconnectCommand:
      return encode([envelope.kind, envelope.requestId, envelope.serverId, envelope.connectionId]);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === "string");

const isNullableString = (value: unknown): value is string | null => value === null || typeof value === "string";

const isStringMap = (value: unknown): value is Record<string, string> =>
  isObject(value) && Object.getPrototypeOf(value) === Object.prototype && Object.values(value).every((item) => typeof item === "string");

function isPresenceOp(value: unknown): value is PresenceOp {
  if (!Array.isArray(value) || typeof value[1] !== "string") return false;
  switch (value[0]) {
    case 0:
      return value.length === 3 && isNullableString(value[2]);
    case 1:
      return value.length === 2;
    case 2:
    case 3:
      return value.length === 3 && typeof value[2] === "string";
    default:
      return false;
  }
}

const isPresenceRecord = (value: unknown): value is PresenceRecord =>
  Array.isArray(value) && value.length === 3 && typeof value[0] === "string" && isNullableString(value[1]) && isStrings(value[2]);

/** Reads an envelope; undefined for anything that is not one (logged by the caller, never thrown). */
export function decodeEnvelope(bytes: Uint8Array): Envelope | undefined {
  let value: unknown;
  try {
    value = decode(bytes);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  const [kind, a, b, c, d, e, f, g] = value as unknown[];
  switch (kind) {
    case EnvelopeKind.Invocation: {
      if (typeof a !== "string" || typeof b !== "string" || typeof c !== "string" || !isStrings(d) || !isStrings(e)) return undefined;
      if (!["all", "connections", "groups", "users"].includes(c) || typeof f !== "object" || f === null) return undefined;
      const encoded = new Map<string, Uint8Array>();
      for (const [name, record] of Object.entries(f)) if (record instanceof Uint8Array) encoded.set(name, record);
      return { kind, messageId: a, serverId: b, target: c as TargetKind, names: d, excluded: e, encoded };
    }
    case EnvelopeKind.GroupCommand:
      if (typeof a !== "string" || typeof b !== "string" || (c !== "add" && c !== "remove") || typeof d !== "string" || typeof e !== "string") {
        return undefined;
      }
      return { kind, requestId: a, serverId: b, action: c, connectionId: d, group: e };
    case EnvelopeKind.Ack:
      return typeof a === "string" ? { kind, requestId: a } : undefined;
    case EnvelopeKind.ResultRequest:
      if (typeof a !== "string" || typeof b !== "string" || typeof c !== "string" || typeof d !== "string" || !Array.isArray(e)) return undefined;
      return { kind, requestId: a, serverId: b, connectionId: c, method: d, args: e, timeoutMs: typeof f === "number" ? f : null };
    case EnvelopeKind.ResultResponse:
      if (typeof a !== "string" || (b !== null && typeof b !== "string")) return undefined;
      return { kind, requestId: a, error: b, result: c };
    case EnvelopeKind.Heartbeat:
      if (typeof a !== "string") return undefined;
      return { kind, serverId: a, presenceSeq: typeof b === "number" ? b : 0, ...(isStrings(c) ? { protocols: c } : {}) };
    case EnvelopeKind.PresenceDelta:
      if (typeof a !== "string" || typeof b !== "number" || !Array.isArray(c) || !c.every(isPresenceOp)) return undefined;
      return { kind, serverId: a, seq: b, ops: c };
    case EnvelopeKind.PresenceSyncRequest:
      return typeof a === "string" ? { kind, serverId: a } : undefined;
    case EnvelopeKind.LocateRequest:
      if (typeof a !== "string" || typeof b !== "string" || typeof c !== "string" || typeof d !== "boolean") return undefined;
      return { kind, requestId: a, serverId: b, token: c, claim: d };
    case EnvelopeKind.LocateAnswer:
      if (
        typeof a !== "string" ||
        typeof b !== "string" ||
        (c !== "none" && c !== "elsewhere" && c !== "claimed") ||
        !isNullableString(d) ||
        typeof e !== "boolean"
      ) {
        return undefined;
      }
      if (f !== undefined && !isNullableString(f)) return undefined;
      return { kind, requestId: a, serverId: b, held: c, connectionId: d, statefulReconnect: e, holder: f ?? null };
    case EnvelopeKind.ForwardRequest:
      if (typeof a !== "string" || typeof b !== "string" || typeof c !== "string" || typeof d !== "string" || !isStringMap(e) || !isNullableString(f))
        return undefined;
      if (!(g instanceof Uint8Array)) return undefined;
      return { kind, requestId: a, serverId: b, method: c, url: d, headers: e, remoteAddress: f, body: g };
    case EnvelopeKind.ForwardResponse:
      if (typeof a !== "string" || typeof b !== "number" || !isStringMap(c) || !(d instanceof Uint8Array)) return undefined;
      return { kind, requestId: a, status: b, headers: c, body: d };
    case EnvelopeKind.ForwardCancel:
      if (typeof a !== "string" || typeof b !== "string") return undefined;
      return { kind, requestId: a, serverId: b };
    case EnvelopeKind.RelayOpen:
      if (typeof a !== "string" || typeof b !== "string" || typeof c !== "string" || !isStringMap(d) || !isNullableString(e)) return undefined;
      if (f !== "websocket" && f !== "events") return undefined;
      return { kind, relayId: a, serverId: b, url: c, headers: d, remoteAddress: e, transport: f };
    case EnvelopeKind.RelayAnswer:
      if (typeof a !== "string" || typeof b !== "string" || typeof c !== "boolean" || typeof d !== "number" || typeof e !== "string" || !isStringMap(f)) {
        return undefined;
      }
      return { kind, relayId: a, serverId: b, accepted: c, status: d, message: e, headers: f };
    case EnvelopeKind.RelayFrame:
      if (typeof a !== "string" || typeof b !== "string" || !Number.isSafeInteger(c) || typeof d !== "boolean" || !(e instanceof Uint8Array)) return undefined;
      return { kind, relayId: a, serverId: b, seq: c as number, isBinary: d, data: e };
    case EnvelopeKind.RelayFlow:
      if (typeof a !== "string" || typeof b !== "string" || typeof c !== "boolean") return undefined;
      return { kind, relayId: a, serverId: b, paused: c };
    case EnvelopeKind.RelayClose:
      if (typeof a !== "string" || typeof b !== "string" || typeof c !== "number" || typeof d !== "string") return undefined;
      return { kind, relayId: a, serverId: b, code: c, reason: d };
    case EnvelopeKind.PresenceSnapshot:
      if (typeof a !== "string" || typeof b !== "number" || !Array.isArray(c) || !c.every(isPresenceRecord)) return undefined;
      return { kind, serverId: a, seq: b, records: c };
    case EnvelopeKind.InspectRequest:
      if (typeof a !== "string" || typeof b !== "string" || !isObject(c)) return undefined;
      return { kind, requestId: a, serverId: b, request: c as InspectionRequest };
    case EnvelopeKind.InspectResponse:
      // The answer's shape is the sender's (a node of the same hub); only its frame is checked here.
      if (typeof a !== "string" || !isObject(b) || !isObject(b["summary"]) || !Array.isArray(b["connections"]) || !Array.isArray(b["groups"])) return undefined;
      return { kind, requestId: a, answer: b as unknown as NodeAnswer };
    case EnvelopeKind.DisconnectCommand:
      if (typeof a !== "string" || typeof b !== "string" || typeof c !== "string") return undefined;
      return { kind, requestId: a, serverId: b, connectionId: c };
    default:
      return undefined;
  }
}
