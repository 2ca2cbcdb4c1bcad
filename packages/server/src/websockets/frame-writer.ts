/**
 * Writes small WebSocket messages as one buffer: the frame header and the payload together, in
 * one `socket.write`. `ws` frames a message as two buffers (header, payload) written with
 * cork/uncork, which Node turns into a vectored write with its own bookkeeping; for the small
 * messages hubs mostly send, that bookkeeping is a visible share of a message's cost. This hands
 * the whole frame to ws's own sender (`sendFrame`, which engine.io uses the same way for its
 * pre-framed broadcasts), so ws's queueing and `bufferedAmount` stay correct.
 *
 * A broadcast hands the same payload bytes to every connection in turn (the hub serializes a
 * message once per protocol), so the last frame built is kept: the next connection given the same
 * bytes gets the same frame, and a broadcast is framed once however many connections receive it.
 *
 * It applies only while ws has nothing to transform: no permessage-deflate negotiated (the
 * sender then never queues). Otherwise, and for large messages (a copy would cost more than the
 * write it saves), messages go through `ws.send`.
 *
 * @module
 */
import type { WebSocket } from "ws";

/** Past this, copying the payload next to its header costs more than the second buffer. */
export const SINGLE_BUFFER_MAX_BYTES = 16 * 1024;

/** The sender method this relies on (ws 8's Sender). Checked at attach time. */
interface SenderInternals {
  sendFrame(list: readonly Buffer[], cb?: (error?: Error | null) => void): void;
}

/** The last payload framed and its frame: a one-entry cache that makes broadcasts frame once. */
let lastPayload: Uint8Array | undefined;
let lastIsBinary = false;
let lastFrame: Buffer | undefined;

function framed(payload: Uint8Array, isBinary: boolean): Buffer {
  if (payload !== lastPayload || isBinary !== lastIsBinary) {
    lastFrame = frameMessage(payload, isBinary);
    lastPayload = payload;
    lastIsBinary = isBinary;
  }
  return lastFrame!;
}

/** A server-to-client frame (FIN set, unmasked) with `payload`, in one buffer. */
export function frameMessage(payload: Uint8Array, isBinary: boolean): Buffer {
  const length = payload.byteLength;
  const headerBytes = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerBytes + length);
  frame[0] = 0x80 | (isBinary ? 0x02 : 0x01);
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.set(payload, headerBytes);
  return frame;
}

/**
 * Sends one message on a socket: one buffer for a small message when that is safe, `ws.send`
 * otherwise. A function rather than a writer object per socket: every open connection would keep one.
 *
 * @example
 * ```ts
 * writeFrame(socket, Buffer.from('{"type":6}\u001e'), false);
 * ```
 */
export function writeFrame(socket: WebSocket, data: Uint8Array, isBinary: boolean): void {
  const sender = (socket as unknown as { _sender?: Partial<SenderInternals> })._sender;
  if (data.byteLength <= SINGLE_BUFFER_MAX_BYTES && typeof sender?.sendFrame === "function" && socket.extensions === "") {
    (sender as SenderInternals).sendFrame([framed(data, isBinary)]);
  } else {
    socket.send(data, { binary: isBinary });
  }
}
