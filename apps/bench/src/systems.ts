/** Every system the bench measures: its server process and the wire its clients speak. */
import type { ServerSpec } from "./child-processes.js";
import { type Figure, formatRatio } from "./figures.js";
import type { WireName } from "./load/wires.js";

export interface System {
  readonly name: string;
  readonly wire: WireName;
  readonly server: ServerSpec;
}

const hubwire: ServerSpec = { script: "hubwire-server", args: [] };
/** The same hub (servers/bench-hub.ts) behind `@hubwire/server/bun`, run by Bun. */
const hubwireOnBun: ServerSpec = { script: "hubwire-bun-server", args: [], runtime: "bun" };

export const systems = {
  tcp: { name: "plain TCP echo (ceiling)", wire: "tcp", server: { script: "tcp-server", args: [] } },
  ws: { name: "raw ws", wire: "ws", server: { script: "ws-server", args: [] } },
  wsFrameOnce: { name: "raw ws, frame once", wire: "ws", server: { script: "ws-server", args: ["--broadcast", "frame-once"] } },
  /** SignalR JSON calls answered over `ws` with JSON.parse and a template, no hub: the floor for a JSON hub (issue 22). */
  wsJsonRpc: { name: "raw ws + JSON.parse (floor)", wire: "signalr-json-ws", server: { script: "ws-json-rpc-server", args: [] } },
  hubwireJson: { name: "Hubwire JSON", wire: "signalr-json-ws", server: hubwire },
  hubwireMessagePack: { name: "Hubwire MessagePack", wire: "signalr-msgpack-ws", server: hubwire },
  hubwireLongPolling: { name: "Hubwire long polling", wire: "signalr-json-lp", server: hubwire },
  socketIo: { name: "socket.io 4.8", wire: "socketio-ws", server: { script: "socketio-server", args: ["--transports", "websocket"] } },
  hubwireJsonOnBun: { name: "Hubwire JSON on Bun", wire: "signalr-json-ws", server: hubwireOnBun },
  hubwireMessagePackOnBun: { name: "Hubwire MessagePack on Bun", wire: "signalr-msgpack-ws", server: hubwireOnBun },
  socketIoOnBun: { name: "socket.io 4.8 on Bun", wire: "socketio-ws", server: { script: "socketio-bun-server", args: [], runtime: "bun" } },
  /** A parked GET answered by the next POST, `node:http` and nothing else (issue 22). */
  httpLongPolling: { name: "node:http long polling (ceiling)", wire: "http-lp", server: { script: "http-long-polling-server", args: [] } },
  socketIoPolling: { name: "socket.io 4.8 polling", wire: "socketio-polling", server: { script: "socketio-server", args: ["--transports", "polling"] } },
  /** The bench hub behind `@hubwire/socket.io`: socket.io's wire, the hub's work. */
  hubwireViaSocketIo: { name: "Hubwire via socket.io", wire: "socketio-ws", server: { script: "hubwire-socketio-server", args: [] } },
} as const satisfies Record<string, System>;

/** Each system on Bun and the same system on Node, which its figures are set against. */
export const onNode: ReadonlyMap<System, System> = new Map<System, System>([
  [systems.hubwireJsonOnBun, systems.hubwireJson],
  [systems.hubwireMessagePackOnBun, systems.hubwireMessagePack],
  [systems.socketIoOnBun, systems.socketIo],
]);

/**
 * The "vs the same on Node" cell of a row: the system's figure over the same system's on Node,
 * for a system on Bun; empty for the others.
 *
 * @example
 * ```ts
 * versusNode(systems.hubwireJsonOnBun, (system) => of(system).perSecond); // "1.37x"
 * ```
 */
export function versusNode(system: System, figure: (system: System) => Figure): string {
  const peer = onNode.get(system);
  return peer === undefined ? "" : formatRatio(figure(system), figure(peer));
}

/** What the rows on Bun are, for the intro of a table that has them. */
export const onBunNote =
  "The rows on Bun run the same server code under Bun: the same hub through `@hubwire/server/bun`, the same socket.io server bound to `@socket.io/bun-engine`; their last column sets them against the same system on Node.";

/** The same system joined to others through Redis at `redisUrl`. */
export function throughRedis(system: System, redisUrl: string): System {
  return { ...system, server: { ...system.server, args: [...system.server.args, "--redis", redisUrl] } };
}

/** What each system that has one runs to go through Redis Streams instead of pub/sub. */
const overStreams = new Map<System, { readonly name: string; readonly args: readonly string[] }>([
  [systems.hubwireJson, { name: "Hubwire JSON, durable", args: ["--delivery", "durable"] }],
  [systems.socketIo, { name: "socket.io 4.8, Streams adapter", args: ["--adapter", "streams"] }],
]);

/**
 * The same system joined to others through Redis Streams at `redisUrl`: Hubwire with the
 * backplane's `delivery: "durable"`, socket.io with `@socket.io/redis-streams-adapter` in place
 * of `@socket.io/redis-adapter`. Throws for a system that has no such mode.
 *
 * @example
 * ```ts
 * throughRedisStreams(systems.socketIo, redis.url).name; // "socket.io 4.8, Streams adapter"
 * ```
 */
export function throughRedisStreams(system: System, redisUrl: string): System {
  const streams = overStreams.get(system);
  if (streams === undefined)
    throw new Error(`${system.name} has no Redis Streams mode; there is one for ${[...overStreams.keys()].map((peer) => peer.name).join(", ")}.`);
  const joined = throughRedis(system, redisUrl);
  return { ...joined, name: streams.name, server: { ...joined.server, args: [...joined.server.args, ...streams.args] } };
}

/**
 * Hubwire JSON as `workers` processes sharing one port with node:cluster
 * (servers/hubwire-cluster-server.ts); one hub once {@link throughRedis} gives it a Redis.
 */
export function hubwireCluster(workers: number): System {
  return {
    name: `Hubwire JSON, ${workers} processes on one port`,
    wire: "signalr-json-ws",
    server: { script: "hubwire-cluster-server", args: ["--workers", String(workers)] },
  };
}
