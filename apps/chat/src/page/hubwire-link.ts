/** The chat page on @hubwire/client: negotiate, then WebSockets, Server-Sent Events or long polling. */
import { HubConnection, type TransportName } from "@hubwire/client";
import type { ChatContract } from "../contract.js";
import type { ChatLink } from "./chat-link.js";

/**
 * @example
 * ```ts
 * const link = hubwireLink("LongPolling");
 * await link.start();
 * ```
 */
export function hubwireLink(forcedTransport: string | null): ChatLink {
  const connection = new HubConnection<ChatContract>("/chat", {
    reconnect: true,
    ...(forcedTransport === null ? {} : { transports: [forcedTransport as TransportName] }),
  });
  return {
    client: "hubwire",
    get transport() {
      return connection.state === "Connected" ? connection.transport : undefined;
    },
    join: (room, user) => connection.invoke("join", room, user),
    leave: (room) => connection.invoke("leave", room),
    send: (room, text) => connection.invoke("send", room, text),
    typing: (room) => void connection.send("typing", room).catch(() => undefined),
    history: (room) => connection.stream("history", room),
    on: (event, handler) => void connection.on(event, handler as never),
    onReconnecting: (listener) => void connection.onReconnecting((error) => listener(error?.message)),
    onReconnected: (listener) => void connection.onReconnected(() => listener()),
    onClose: (listener) => void connection.onClose((error) => listener(error?.message)),
    start: () => connection.start(),
    stop: () => void connection.stop(),
  };
}
