/**
 * socket.io-client's event maps from a hub's contract, so that a socket.io client is typed as
 * Hubwire's own: the hub's methods are what it emits (with an acknowledgement for the answer), the
 * client methods are what it listens to (with an acknowledgement where the hub awaits a result).
 *
 * @module
 * @example
 * ```ts
 * import type { ClientEvents, ServerEvents } from "@hubwire/socket.io";
 * import { io, type Socket } from "socket.io-client";
 * import type { ChatContract } from "./contract.js";
 *
 * const socket: Socket<ClientEvents<ChatContract>, ServerEvents<ChatContract>> = io("https://host/chat");
 * const sum = await socket.emitWithAck("add", 1, 2); // number | CallError
 * socket.on("receive", (user, text) => console.log(user, text));
 * ```
 */
import type { ClientMethods, HubContract, MethodArgs, MethodName, MethodResult, ServerMethods } from "@hubwire/protocol";
import type { CallError } from "./call-answers.js";

/** The answer an acknowledgement carries: the result, or the failure. */
type Answer<TResult> = (answer: TResult | CallError) => void;

/** The hub methods a socket.io client can call: every one but the streaming ones (socket.io has no streams). */
type CallableMethods<TSide> = {
  [K in MethodName<TSide>]: MethodResult<TSide, K> extends AsyncIterable<unknown> ? never : K;
}[MethodName<TSide>];

/**
 * What a socket.io client emits: each hub method, with an acknowledgement that receives its result
 * or `{ error }`. A method without a result may be emitted without one (fire and forget).
 */
export type ServerEvents<TContract extends HubContract> = {
  [K in CallableMethods<ServerMethods<TContract>>]: MethodResult<ServerMethods<TContract>, K> extends void
    ? (...args: [...MethodArgs<ServerMethods<TContract>, K>, ack?: Answer<MethodResult<ServerMethods<TContract>, K>>]) => void
    : (...args: [...MethodArgs<ServerMethods<TContract>, K>, ack: Answer<MethodResult<ServerMethods<TContract>, K>>]) => void;
};

/**
 * What a socket.io client listens to: each client method; one whose result the hub awaits (a
 * client result) gets an acknowledgement to answer with. And `hubwire:close`, sent before the hub
 * ends the connection with something to say.
 */
export type ClientEvents<TContract extends HubContract> = {
  [K in MethodName<ClientMethods<TContract>>]: MethodResult<ClientMethods<TContract>, K> extends void
    ? (...args: MethodArgs<ClientMethods<TContract>, K>) => void
    : (...args: [...MethodArgs<ClientMethods<TContract>, K>, ack: Answer<MethodResult<ClientMethods<TContract>, K>>]) => void;
} & {
  "hubwire:close": (details: { readonly error?: string; readonly allowReconnect?: boolean }) => void;
};

/** Both maps of a contract, for `Socket<SocketIoEvents<C>["listen"], SocketIoEvents<C>["emit"]>`. */
export interface SocketIoEvents<TContract extends HubContract> {
  readonly listen: ClientEvents<TContract>;
  readonly emit: ServerEvents<TContract>;
}
