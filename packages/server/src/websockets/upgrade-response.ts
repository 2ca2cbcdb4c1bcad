/**
 * Answers an HTTP upgrade request that will not become a WebSocket: a status line, a short text
 * body, then the socket is closed. Used before the WebSocket handshake, so a refused client gets
 * a real HTTP status (400, 403, 404, 409...) instead of a dropped connection.
 *
 * @module
 */
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";

/**
 * Writes `status` with `message` as its body and ends the socket.
 *
 * @example
 * ```ts
 * server.on("upgrade", (request, socket) => rejectUpgrade(socket, 403, "Origin not allowed."));
 * ```
 */
export function rejectUpgrade(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const body = Buffer.from(message, "utf8");
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}`,
    "Connection: close",
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${body.length}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.once("error", () => undefined);
  socket.end(Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), body]));
  // A peer that never reads must not hold the socket open.
  setTimeout(() => socket.destroy(), 1_000).unref();
}
