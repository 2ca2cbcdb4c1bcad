/**
 * What the chat page needs of its connection to the chat hub, whichever client library carries
 * it: @hubwire/client (`hubwire-link.ts`, the default) or socket.io-client (`socket-io-link.ts`,
 * `?client=socket.io`). The page (`main.ts`) never asks which one it has.
 *
 * @module
 */
import type { ChatContract, ChatMessage } from "../contract.js";

/** The client libraries the page can run on, as `?client=` and the page's client links name them. */
export type ClientName = "hubwire" | "socket.io";

type ClientMethods = ChatContract["client"];

export interface ChatLink {
  readonly client: ClientName;
  /** The transport in use while connected, as the page's transport links name it (`WebSockets`, `LongPolling`, ...). */
  readonly transport: string | undefined;
  /** Each call rejects with an Error whose message is what a SignalR client reads (see server-error-text.ts). */
  join(room: string, user: string): Promise<string[]>;
  leave(room: string): Promise<void>;
  send(room: string, text: string): Promise<void>;
  /** Fire and forget: no answer, nothing if not connected. */
  typing(room: string): void;
  /** The room's last messages, oldest first. */
  history(room: string): AsyncIterable<ChatMessage>;
  on<K extends keyof ClientMethods>(event: K, handler: (...args: Parameters<ClientMethods[K]>) => void): void;
  /** The connection was lost and the client reconnects by itself; `error` is why, when known. */
  onReconnecting(listener: (error?: string) => void): void;
  /** Reconnected: a new connection, in no room yet. */
  onReconnected(listener: () => void): void;
  /** The connection ended for good; `error` is the server's reason, if it gave one. */
  onClose(listener: (error?: string) => void): void;
  start(): Promise<void>;
  stop(): void;
}
