/**
 * Serves Hubwire hubs to socket.io clients: each socket.io namespace named here is a hub, and
 * socket.io's server is only its transport. Groups, users, the connection id, `ctx.items`,
 * filters, `authenticate` and `authorize` are the hub's, so one group can hold socket.io and
 * SignalR clients, and `hubContext` sends and the Redis backplane reach both. socket.io's own
 * adapter carries none of the hub's traffic.
 *
 * @module
 */
import type { HubContract, HubDefinition, HubServerCore } from "@hubwire/server";
import type { ExtendedError, Server, Socket } from "socket.io";
import { SharedPackets, SocketClient } from "./socket-client.js";
import { hubRequestOf, tokenOf } from "./socket-request.js";

/** The name `ctx.transport` and the inspection API give a socket.io client. */
export const socketIoTransport = "socket.io";

/** Why a socket.io client was refused: `connect_error`'s `data` on the client. */
export interface RefusalData {
  /** The HTTP status a SignalR client would have got: 401, 403, or 503 while the server shuts down. */
  readonly status: number;
}

/**
 * Serves hubs to socket.io clients, one namespace per hub. The hubs must be mounted on `hubs`
 * (`createHubServer({ hubs })`); `io` is socket.io's `Server`, created by the app with the options
 * it wants (its path, CORS, `maxHttpBufferSize`), on the same HTTP server or another.
 *
 * A socket.io client is refused with `connect_error` (`message`: SignalR's text, `data.status`:
 * 401 or 403) when the server's `authenticate` (given the `auth.token` the client sends) or the
 * hub's `authorize` refuses it.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { createHubServer } from "@hubwire/server";
 * import { serveHubs } from "@hubwire/socket.io";
 * import { Server } from "socket.io";
 *
 * const httpServer = createServer();
 * const hubs = createHubServer({ hubs: { "/chat": chat } }).attach(httpServer);
 * const io = new Server(httpServer, { cors: { origin: "https://example.com" } });
 * serveHubs(io, hubs, { "/chat": chat }); // io("https://host/chat") reaches the chat hub
 * httpServer.listen(3000);
 * ```
 */
export function serveHubs(io: Server, hubs: HubServerCore, namespaces: Readonly<Record<string, HubDefinition<HubContract>>>): void {
  for (const [name, hub] of Object.entries(namespaces)) {
    const gateway = hubs.gateway(hub);
    const admitted = new WeakMap<Socket, Exclude<Awaited<ReturnType<typeof gateway.admit>>, { status: number }>>();
    const namespace = io.of(name);
    const shared = new SharedPackets((packet) => io.encoder.encode(packet as never) as unknown[], namespace.name);
    namespace.use((socket, next) => {
      gateway.admit({ request: hubRequestOf(socket), accessToken: tokenOf(socket) }).then(
        (admission) => {
          if ("status" in admission) {
            const refusal: ExtendedError = Object.assign(new Error(admission.message), { data: { status: admission.status } satisfies RefusalData });
            next(refusal);
            return;
          }
          admitted.set(socket, admission);
          next();
        },
        (error: unknown) => {
          gateway.logger.log("error", "Admitting a socket.io client failed.", { hub: gateway.hubName, error });
          next(Object.assign(new Error("Internal server error"), { data: { status: 500 } }));
        },
      );
    });
    namespace.on("connection", (socket) => {
      const admission = admitted.get(socket);
      if (admission === undefined) return void socket.disconnect(true);
      admitted.delete(socket);
      const client = new SocketClient(socket, gateway.logger, gateway.hubName, shared);
      const connection = gateway.connect(socketIoTransport, client, admission, socket.id);
      client.connection = connection;
      // Every event is a call: taken as the socket's first middleware sees it ([name, ...args, ack?],
      // not copied for listeners) and never passed on, as no listener of socket.io's has anything to add.
      // The event array is socket.io's to give away: it becomes the call's arguments in place.
      socket.use((event, _next) => {
        const target = String(event.shift());
        if (typeof event[event.length - 1] === "function") {
          const ack = event.pop() as (...answer: unknown[]) => void;
          connection.invoke(target, event, client.track(ack));
        } else {
          connection.invoke(target, event);
        }
      });
      socket.on("disconnect", (reason) => {
        // The client's own disconnect is a clean end, as a SignalR client's stop(); the rest are failures.
        connection.end(reason === "client namespace disconnect" ? undefined : new Error(`The socket.io connection ended: ${reason}.`));
      });
    });
  }
}
