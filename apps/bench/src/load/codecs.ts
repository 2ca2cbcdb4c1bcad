/**
 * Each system's wire format, as the load generator speaks it: frames are encoded once, before a
 * run, and replies are read with the least work that finds their slot, so that every system's
 * server is measured and not the generator.
 */
import { writeBinaryRecord } from "@hubwire/protocol-msgpack";
import { decode, encode } from "@msgpack/msgpack";

/** What the generator does with what arrived. */
export interface Sink {
  /** The answer to the request sent in this slot. */
  reply(slot: number): void;
  /** One message the server pushed (a broadcast or a relay). */
  push(): void;
}

/** Reads one connection's incoming data; returns a frame to answer with (a pong), if any. */
export type Reader = (data: Buffer) => Buffer | undefined;

export interface Codec {
  /** Whether frames go out as binary WebSocket messages. */
  readonly binary: boolean;
  echo(slot: number, payload: string): Buffer;
  broadcast(payload: string): Buffer;
  join(slot: number, group: string): Buffer;
  relay(group: string, payload: string): Buffer;
  /** A keep-alive to send on idle connections, for systems whose server expects one. */
  readonly ping?: Buffer;
  /** A reader for one connection; `payloadBytes` is the run's payload size (plain TCP needs it). */
  reader(sink: Sink, payloadBytes: number): Reader;
}

const RS = "\u001e";
const text = (value: string) => Buffer.from(value, "utf8");

/** SignalR's JSON hub protocol (records end with 0x1E). */
export const signalRJson: Codec = {
  binary: false,
  echo: (slot, payload) => text(`{"type":1,"invocationId":"${slot}","target":"echo","arguments":[${JSON.stringify(payload)}]}${RS}`),
  broadcast: (payload) => text(`{"type":1,"target":"broadcast","arguments":[${JSON.stringify(payload)}]}${RS}`),
  join: (slot, group) => text(`{"type":1,"invocationId":"${slot}","target":"join","arguments":[${JSON.stringify(group)}]}${RS}`),
  relay: (group, payload) => text(`{"type":1,"target":"relay","arguments":[${JSON.stringify(group)},${JSON.stringify(payload)}]}${RS}`),
  ping: text(`{"type":6}${RS}`),
  reader: (sink) => (data) => {
    const records = data.toString("utf8").split(RS);
    for (const record of records) {
      const type = /"type":(\d+)/.exec(record)?.[1];
      if (type === "3") {
        const at = record.indexOf('"invocationId":"') + 16;
        sink.reply(Number(record.slice(at, record.indexOf('"', at))));
      } else if (type === "1") {
        sink.push();
      } else if (type === "7") {
        throw new Error(`The server closed the connection: ${record}`);
      }
    }
    return undefined;
  },
};

const varIntFramed = (message: Uint8Array) => Buffer.from(writeBinaryRecord(message));

/** SignalR's MessagePack hub protocol (VarInt length prefixes). */
export const signalRMessagePack: Codec = {
  binary: true,
  echo: (slot, payload) => varIntFramed(encode([1, {}, String(slot), "echo", [payload]])),
  broadcast: (payload) => varIntFramed(encode([1, {}, null, "broadcast", [payload]])),
  join: (slot, group) => varIntFramed(encode([1, {}, String(slot), "join", [group]])),
  relay: (group, payload) => varIntFramed(encode([1, {}, null, "relay", [group, payload]])),
  ping: varIntFramed(encode([6])),
  reader: (sink) => (data) => {
    let offset = 0;
    while (offset < data.length) {
      let length = 0;
      let shift = 0;
      let byte: number;
      do {
        byte = data[offset++] ?? 0;
        length |= (byte & 0x7f) << shift;
        shift += 7;
      } while (byte & 0x80);
      const message = data.subarray(offset, offset + length);
      offset += length;
      // [type, headers, ...]: a completion with no headers carries its id as a fixstr at byte 3.
      const type = message[1];
      if (type === 3 && message[2] === 0x80) {
        const idLength = (message[3] ?? 0) & 0x1f;
        sink.reply(Number(message.subarray(4, 4 + idLength).toString("latin1")));
      } else if (type === 3) {
        sink.reply(Number((decode(message) as unknown[])[2]));
      } else if (type === 1) {
        sink.push();
      } else if (type === 7) {
        throw new Error(`The server closed the connection: ${JSON.stringify(decode(message))}`);
      }
    }
    return undefined;
  },
};

const pong = text("3");

/** socket.io 4 over engine.io 4: `42[event,...]` events, `43<id>[...]` acks, `2`/`3` pings. */
export const socketIo: Codec = {
  binary: false,
  echo: (slot, payload) => text(`42${slot}["echo",${JSON.stringify(payload)}]`),
  broadcast: (payload) => text(`42["broadcast",${JSON.stringify(payload)}]`),
  join: (slot, group) => text(`42${slot}["join",${JSON.stringify(group)}]`),
  relay: (group, payload) => text(`42["relay",${JSON.stringify(group)},${JSON.stringify(payload)}]`),
  reader: (sink) => (data) => {
    let answer: Buffer | undefined;
    // Polling batches packets with 0x1E between them; a WebSocket frame holds one.
    for (const packet of data.toString("utf8").split(RS)) {
      if (packet.startsWith("43")) {
        sink.reply(Number.parseInt(packet.slice(2), 10));
      } else if (packet.startsWith("42")) {
        sink.push();
      } else if (packet === "2") {
        answer = pong;
      } else if (packet.startsWith("1") || packet.startsWith("41")) {
        throw new Error(`The server closed the connection: ${packet}`);
      }
    }
    return answer;
  },
};

/** Raw ws: `<slot>:<payload>` echoed back; `B<payload>` asks for a broadcast of `<payload>`. */
export const rawWebSocket: Codec = {
  binary: false,
  echo: (slot, payload) => text(`${slot}:${payload}`),
  broadcast: (payload) => text(`B${payload}`),
  join: () => {
    throw new Error("Raw ws has no groups.");
  },
  relay: () => {
    throw new Error("Raw ws has no groups.");
  },
  reader: (sink) => (data) => {
    const first = data[0] ?? 0;
    if (first >= 0x30 && first <= 0x39) sink.reply(Number.parseInt(data.toString("latin1", 0, 4), 10));
    else sink.push();
    return undefined;
  },
};

const RECORD_END = 0x1e;

/**
 * The node:http long-polling ceiling (servers/http-long-polling-server.ts): `<slot>:<payload>`
 * records ending with 0x1E, which the server echoes as they came. A poll may carry several
 * records (everything POSTed while no poll waited), hence the terminator raw ws does without.
 */
export const plainLongPolling: Codec = {
  binary: false,
  echo: (slot, payload) => text(`${slot}:${payload}${RS}`),
  broadcast: () => {
    throw new Error("The long-polling ceiling only echoes.");
  },
  join: () => {
    throw new Error("The long-polling ceiling only echoes.");
  },
  relay: () => {
    throw new Error("The long-polling ceiling only echoes.");
  },
  reader: (sink) => (data) => {
    for (let start = 0; start < data.length; ) {
      const end = data.indexOf(RECORD_END, start);
      if (end < 0) throw new Error(`A record without its 0x1E terminator: ${data.toString("utf8", start)}`);
      sink.reply(Number.parseInt(data.toString("latin1", start, Math.min(start + 4, end)), 10));
      start = end + 1;
    }
    return undefined;
  },
};

/** Plain TCP: fixed-size messages (a two-digit slot, then the payload) in a byte stream. */
export const plainTcp: Codec = {
  binary: true,
  echo: (slot, payload) => text(`${String(slot).padStart(2, "0")}${payload}`),
  broadcast: () => {
    throw new Error("Plain TCP only echoes.");
  },
  join: () => {
    throw new Error("Plain TCP only echoes.");
  },
  relay: () => {
    throw new Error("Plain TCP only echoes.");
  },
  reader: (sink, payloadBytes) => {
    const size = 2 + payloadBytes;
    let pending: Buffer = Buffer.alloc(0);
    return (data) => {
      pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
      let offset = 0;
      while (pending.length - offset >= size) {
        sink.reply(Number(pending.toString("latin1", offset, offset + 2)));
        offset += size;
      }
      pending = pending.subarray(offset);
      return undefined;
    };
  },
};
