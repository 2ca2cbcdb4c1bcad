/** Every system the bench measures: its server process and the wire its clients speak. */
import type { ServerSpec } from "./child-processes.js";
import type { WireName } from "./load/wires.js";

export interface System {
  readonly name: string;
  readonly wire: WireName;
  readonly server: ServerSpec;
}

const hubwire: ServerSpec = { script: "hubwire-server", args: [] };

export const systems = {
  tcp: { name: "plain TCP echo (ceiling)", wire: "tcp", server: { script: "tcp-server", args: [] } },
  ws: { name: "raw ws", wire: "ws", server: { script: "ws-server", args: [] } },
  wsFrameOnce: { name: "raw ws, frame once", wire: "ws", server: { script: "ws-server", args: ["--broadcast", "frame-once"] } },
  hubwireJson: { name: "Hubwire JSON", wire: "signalr-json-ws", server: hubwire },
  hubwireMessagePack: { name: "Hubwire MessagePack", wire: "signalr-msgpack-ws", server: hubwire },
  hubwireLongPolling: { name: "Hubwire long polling", wire: "signalr-json-lp", server: hubwire },
  socketIo: { name: "socket.io 4.8", wire: "socketio-ws", server: { script: "socketio-server", args: ["--transports", "websocket"] } },
  socketIoPolling: { name: "socket.io 4.8 polling", wire: "socketio-polling", server: { script: "socketio-server", args: ["--transports", "polling"] } },
} as const satisfies Record<string, System>;

/** The same system joined to others through Redis at `redisUrl`. */
export function throughRedis(system: System, redisUrl: string): System {
  return { ...system, server: { ...system.server, args: [...system.server.args, "--redis", redisUrl] } };
}
