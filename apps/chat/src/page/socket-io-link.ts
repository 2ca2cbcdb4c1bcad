/**
 * The chat page on socket.io-client (`?client=socket.io`): the namespace /chat, which the server
 * serves from the same chat hub with @hubwire/socket.io, so socket.io pages and Hubwire pages share
 * rooms. The client is socket.io's own browser build as the server serves it, loaded only by this
 * page: the default page's script stays without it, and client and server versions always match.
 * A call is an event with an acknowledgement that receives the result or `{ error }`; history
 * comes from `recent` (socket.io has no streams); `hubwire:close` says why the hub ended the
 * connection.
 *
 * @module
 */
import { type CallError, type ClientEvents, isCallError, type ServerEvents } from "@hubwire/socket.io";
import type { io as connect, Socket } from "socket.io-client";
import type { ChatContract } from "../contract.js";
import type { ChatLink } from "./chat-link.js";

type ChatSocket = Socket<ClientEvents<ChatContract>, ServerEvents<ChatContract>>;

/** socket.io's client as its server serves it (`serveClient`). Typed `string` so that neither tsc nor esbuild resolves it. */
const clientScript: string = "/socket.io/socket.io.esm.min.js";
/** A call the hub has not answered within this long fails: the connection is most likely gone (the hub's own client timeout). */
const callTimeoutMs = 30_000;
/** socket.io's transports by the names of the page's transport links, and back. */
const socketIoTransports: Record<string, "websocket" | "polling"> = { WebSockets: "websocket", LongPolling: "polling" };
const linkNames: Record<string, string> = { websocket: "WebSockets", polling: "LongPolling" };

/** The result of an acknowledged call, or an Error with the text a SignalR client would read. */
async function answerOf<T>(answer: Promise<T | CallError>): Promise<T> {
  const value = await answer;
  if (isCallError(value)) throw new Error(value.error);
  return value;
}

/**
 * @example
 * ```ts
 * const link = socketIoLink(null); // WebSockets first, long polling if they fail
 * await link.start();
 * ```
 */
export function socketIoLink(forcedTransport: string | null): ChatLink {
  let socket: ChatSocket | undefined;
  // Handlers given before start(), which creates the socket once socket.io's script has loaded.
  const wiring: Array<(socket: ChatSocket) => void> = [];
  const reconnecting: Array<(error?: string) => void> = [];
  const reconnected: Array<() => void> = [];
  const closed: Array<(error?: string) => void> = [];
  /** What the last `hubwire:close` said, for the disconnect that follows it. */
  let closeReason: string | undefined;

  // socket.io buffers what is emitted while disconnected and sends it after a reconnect, into a
  // connection that is in no room: fail at once instead, as the Hubwire client does.
  function connected(): ChatSocket {
    if (socket?.connected !== true) throw new Error("Not connected to the server.");
    return socket;
  }

  return {
    client: "socket.io",
    get transport() {
      return socket?.connected === true ? linkNames[socket.io.engine.transport.name] : undefined;
    },
    join: async (room, user) => answerOf(connected().timeout(callTimeoutMs).emitWithAck("join", room, user)),
    leave: async (room) => answerOf(connected().timeout(callTimeoutMs).emitWithAck("leave", room)),
    send: async (room, text) => answerOf(connected().timeout(callTimeoutMs).emitWithAck("send", room, text)),
    typing: (room) => void (socket?.connected === true && socket.emit("typing", room)),
    async *history(room) {
      yield* await answerOf(connected().timeout(callTimeoutMs).emitWithAck("recent", room));
    },
    on: (event, handler) => void wiring.push((socket) => socket.on(event, handler as never)),
    onReconnecting: (listener) => void reconnecting.push(listener),
    onReconnected: (listener) => void reconnected.push(listener),
    onClose: (listener) => void closed.push(listener),
    async start() {
      const only = forcedTransport === null ? undefined : socketIoTransports[forcedTransport];
      if (forcedTransport !== null && only === undefined)
        throw new Error(`socket.io-client has no ${forcedTransport} transport: use WebSockets or LongPolling.`);
      const { io } = (await import(clientScript).catch(() => {
        throw new Error("This server does not serve socket.io clients (the chat on Bun does not): open the page without ?client=socket.io.");
      })) as { io: typeof connect };
      const opened: ChatSocket = io("/chat", {
        // WebSockets first, as the Hubwire client, and long polling if they fail; or only the one asked for.
        transports: only === undefined ? ["websocket", "polling"] : [only],
        tryAllTransports: true,
        autoConnect: false,
      });
      socket = opened;
      for (const wire of wiring) wire(opened);
      opened.on("hubwire:close", ({ error }) => {
        closeReason = error;
      });
      await new Promise<void>((resolve, reject) => {
        opened.once("connect", () => (opened.off("connect_error"), resolve()));
        opened.once("connect_error", (error) => {
          // A first connection that fails is final, as the Hubwire client's start(): no retries behind the page's back.
          opened.disconnect();
          reject(error);
        });
        opened.connect();
      });
      opened.on("connect", () => {
        for (const listener of reconnected) listener();
      });
      opened.on("disconnect", () => {
        const error = closeReason;
        closeReason = undefined;
        // Active: socket.io-client reconnects by itself (a lost transport, or the hub asked it to
        // come back); not after the server's or this page's own disconnect.
        for (const listener of opened.active ? reconnecting : closed) listener(error);
      });
    },
    stop: () => void socket?.disconnect(),
  };
}
