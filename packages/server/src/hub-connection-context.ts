/**
 * What the hub layer needs of a connection (ASP.NET Core's `HubConnectionContext`): who it is,
 * its items and abort signal, writing hub messages to it, and ending it. The dispatcher, the
 * invocation runner and the call context see only this, so a connection carried by SignalR's
 * transports (`connection.ts`) and one carried by another stack through a gateway
 * (`hub-gateway.ts`, socket.io's for example) are served by the same hub code.
 *
 * @module
 */
import type { CompletionMessage, HubMessage, TransportName } from "@hubwire/protocol";
import type { ConnectionRequest, Principal } from "./connection-request.js";
import type { ManagedConnection } from "./lifetime-manager.js";

/** How a connection reaches its hub: one of SignalR's transports, or a gateway's name (`"socket.io"`). */
export type ConnectionTransport = TransportName | (string & {});

/** A connection as its hub sees it. */
export interface HubConnectionContext extends ManagedConnection {
  readonly principal: Principal | undefined;
  /** Per-connection state for the application (SignalR's `Context.Items`). */
  readonly items: Map<unknown, unknown>;
  /** Aborted when the connection ends (SignalR's `ConnectionAborted`). */
  readonly signal: AbortSignal;
  /** What the connection keeps of the request that opened it. */
  readonly request: ConnectionRequest | undefined;
  /** The transport it connected over; undefined before it connected. */
  readonly connectedOver: ConnectionTransport | undefined;
  /** The hub protocol it speaks, for log lines. */
  readonly protocol: { readonly name: string } | undefined;
  /** Its reading, paused while its calls or uploads are backed up; undefined when it cannot pause. */
  readonly transport: { pause(): void; resume(): void } | undefined;
  /** Writes a message to this connection only; a promise means "wait before sending more". Throws a `ProtocolError` for a message it cannot write. */
  send(message: HubMessage): void | Promise<void>;
  /** Sends a Completion, which must arrive: one that cannot be written ends the connection with an error instead. */
  sendCompletion(message: CompletionMessage): void;
  /** Ends the connection, telling the client (`error`, `allowReconnect`); `cause` is what `onDisconnected` sees. */
  close(options?: { error?: string; allowReconnect?: boolean; cause?: Error }): void;
  /** Ends the connection without telling the client (SignalR's `Context.Abort()`). */
  abort(reason?: string): void;
}
