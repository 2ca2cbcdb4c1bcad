/**
 * The hub messages of the SignalR protocol, as data: one readonly interface per message and a
 * numeric `type` tag that both the JSON and the MessagePack protocols put on the wire.
 *
 * @module
 * @example
 * ```ts
 * import { MessageType, type HubMessage } from "@hubwire/protocol";
 *
 * function describe(message: HubMessage): string {
 *   switch (message.type) {
 *     case MessageType.Invocation:
 *       return `call ${message.target}(${message.arguments.length} args)`;
 *     case MessageType.Completion:
 *       return message.error === undefined ? "result" : `error: ${message.error}`;
 *     default:
 *       return `message of type ${message.type}`;
 *   }
 * }
 * ```
 */

/** The `type` tag of every hub message, with SignalR's numbers. */
export const MessageType = {
  Invocation: 1,
  StreamItem: 2,
  Completion: 3,
  StreamInvocation: 4,
  CancelInvocation: 5,
  Ping: 6,
  Close: 7,
  Ack: 8,
  Sequence: 9,
} as const;

/** One of the numbers in {@link MessageType}. */
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Message headers: string keys to string values (trace context, for example). */
export type MessageHeaders = Readonly<Record<string, string>>;

/** Calls a method on the other side. Without `invocationId` it is fire-and-forget: no reply, ever. */
export interface InvocationMessage {
  readonly type: typeof MessageType.Invocation;
  readonly headers?: MessageHeaders;
  readonly invocationId?: string;
  readonly target: string;
  readonly arguments: readonly unknown[];
  /** Ids of the streams the caller uploads as further arguments. */
  readonly streamIds?: readonly string[];
}

/** One item of a stream: a server-to-client result stream, or an upload whose id is `invocationId`. */
export interface StreamItemMessage {
  readonly type: typeof MessageType.StreamItem;
  readonly headers?: MessageHeaders;
  readonly invocationId: string;
  readonly item: unknown;
}

/**
 * Ends an invocation or a stream. `result` undefined with no `error` means a void completion;
 * `result: null` is a value. A result and an error together is a protocol error.
 */
export interface CompletionMessage {
  readonly type: typeof MessageType.Completion;
  readonly headers?: MessageHeaders;
  readonly invocationId: string;
  readonly result?: unknown;
  readonly error?: string;
}

/** Calls a method whose result is a stream of {@link StreamItemMessage}s. */
export interface StreamInvocationMessage {
  readonly type: typeof MessageType.StreamInvocation;
  readonly headers?: MessageHeaders;
  readonly invocationId: string;
  readonly target: string;
  readonly arguments: readonly unknown[];
  readonly streamIds?: readonly string[];
}

/** Asks the other side to stop a stream it is producing. */
export interface CancelInvocationMessage {
  readonly type: typeof MessageType.CancelInvocation;
  readonly headers?: MessageHeaders;
  readonly invocationId: string;
}

/** Keep-alive. Carries nothing. */
export interface PingMessage {
  readonly type: typeof MessageType.Ping;
}

/** Ends the connection, optionally with an error and a hint that the client may reconnect. */
export interface CloseMessage {
  readonly type: typeof MessageType.Close;
  readonly error?: string;
  readonly allowReconnect?: boolean;
}

/** Stateful reconnect: the receiver has processed every message up to `sequenceId`. */
export interface AckMessage {
  readonly type: typeof MessageType.Ack;
  readonly sequenceId: number;
}

/** Stateful reconnect: the id of the next trackable message the sender will send. */
export interface SequenceMessage {
  readonly type: typeof MessageType.Sequence;
  readonly sequenceId: number;
}

/** Any hub message. Switch on `type` to narrow it. */
export type HubMessage =
  | InvocationMessage
  | StreamItemMessage
  | CompletionMessage
  | StreamInvocationMessage
  | CancelInvocationMessage
  | PingMessage
  | CloseMessage
  | AckMessage
  | SequenceMessage;

/** The messages that carry headers (Ping, Close, Ack and Sequence never do). */
export type HubMessageWithHeaders = Extract<HubMessage, { readonly headers?: MessageHeaders }>;

/**
 * Messages numbered and buffered by stateful reconnect (types 1 to 5).
 *
 * @example
 * ```ts
 * if (isTrackableMessage(message)) replayBuffer.push(message);
 * ```
 */
export function isTrackableMessage(message: HubMessage): message is HubMessageWithHeaders {
  return message.type <= MessageType.CancelInvocation;
}
