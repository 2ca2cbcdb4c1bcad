/** Every wire the generator speaks, by name: its codec and how a connection opens. */
import { type Codec, plainLongPolling, plainTcp, rawWebSocket, type Sink, signalRJson, signalRMessagePack, socketIo } from "./codecs.js";
import {
  type BenchConnection,
  type OpenOptions,
  openHttpLongPolling,
  openPlainTcp,
  openSignalRLongPolling,
  openSocketIoPolling,
  openWebSocket,
  signalRHandshake,
  socketIoHandshake,
} from "./connections.js";

export type WireName = "tcp" | "ws" | "signalr-json-ws" | "signalr-msgpack-ws" | "signalr-json-lp" | "socketio-ws" | "socketio-polling" | "http-lp";

export interface Wire {
  readonly codec: Codec;
  /** Opens one connection to the server at `baseUrl` (http://host:port). */
  open(baseUrl: string, sink: Sink, payloadBytes: number, options: OpenOptions): Promise<BenchConnection>;
}

const asWs = (baseUrl: string) => baseUrl.replace(/^http/, "ws");

export const wires: Readonly<Record<WireName, Wire>> = {
  tcp: {
    codec: plainTcp,
    open(baseUrl, sink, payloadBytes, options) {
      const { hostname, port } = new URL(baseUrl);
      return openPlainTcp(hostname, Number(port), plainTcp.reader(sink, payloadBytes), options);
    },
  },
  ws: {
    codec: rawWebSocket,
    open: (baseUrl, sink, payloadBytes, options) => openWebSocket(`${asWs(baseUrl)}/ws`, rawWebSocket, rawWebSocket.reader(sink, payloadBytes), options),
  },
  "signalr-json-ws": {
    codec: signalRJson,
    open(baseUrl, sink, payloadBytes, options) {
      const reader = signalRJson.reader(sink, payloadBytes);
      return openWebSocket(`${asWs(baseUrl)}/hub`, signalRJson, reader, options, signalRHandshake("json", reader));
    },
  },
  "signalr-msgpack-ws": {
    codec: signalRMessagePack,
    open(baseUrl, sink, payloadBytes, options) {
      const reader = signalRMessagePack.reader(sink, payloadBytes);
      return openWebSocket(`${asWs(baseUrl)}/hub`, signalRMessagePack, reader, options, signalRHandshake("messagepack", reader));
    },
  },
  "signalr-json-lp": {
    codec: signalRJson,
    open: (baseUrl, sink, payloadBytes, options) => openSignalRLongPolling(`${baseUrl}/hub`, signalRJson.reader(sink, payloadBytes), options),
  },
  "socketio-ws": {
    codec: socketIo,
    open(baseUrl, sink, payloadBytes, options) {
      return openWebSocket(`${asWs(baseUrl)}/socket.io/?EIO=4&transport=websocket`, socketIo, socketIo.reader(sink, payloadBytes), options, socketIoHandshake);
    },
  },
  "socketio-polling": {
    codec: socketIo,
    open: (baseUrl, sink, payloadBytes, options) => openSocketIoPolling(baseUrl, socketIo.reader(sink, payloadBytes), options),
  },
  /** The node:http long-polling ceiling (servers/http-long-polling-server.ts). */
  "http-lp": {
    codec: plainLongPolling,
    open: (baseUrl, sink, payloadBytes, options) => openHttpLongPolling(baseUrl, plainLongPolling.reader(sink, payloadBytes), options),
  },
};
