/** Raw HTTP and WebSocket peers for the status-code and bad-input suites. */
import { WebSocket } from "ws";

export interface NegotiateBody {
  negotiateVersion?: number;
  connectionId?: string;
  connectionToken?: string;
  availableTransports?: Array<{ transport: string; transferFormats: string[] }>;
  error?: string;
}

export async function negotiate(origin: string, path: string, query = "negotiateVersion=1", init: RequestInit = {}) {
  const response = await fetch(`${origin}${path}/negotiate?${query}`, { method: "POST", ...init });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: (text.startsWith("{") ? JSON.parse(text) : {}) as NegotiateBody };
}

/**
 * Opens a WebSocket and resolves with it, or with the HTTP status the server refused it with.
 * `frames` collects text from the first frame on: a frame can arrive in the same packet as the
 * upgrade answer, before a listener added after `open` would see it.
 */
export function openWebSocket(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ socket?: WebSocket; status?: number; body?: string; frames: string[] }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    const frames: string[] = [];
    socket.on("message", (data: Buffer) => frames.push(data.toString()));
    socket.once("open", () => resolve({ socket, frames }));
    socket.once("unexpected-response", (_request, response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode, body, frames }));
    });
    socket.once("error", (error) => reject(error));
  });
}

/** A WebSocket that collects every frame it receives. */
export class RawHubSocket {
  readonly frames: Array<{ data: Buffer; isBinary: boolean }> = [];
  closed: { code: number; reason: string } | undefined;
  constructor(readonly socket: WebSocket) {
    socket.on("message", (data: Buffer, isBinary) => this.frames.push({ data, isBinary }));
    socket.on("close", (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<RawHubSocket> {
    const socket = new WebSocket(url, { headers });
    const raw = new RawHubSocket(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("unexpected-response", (_request, response) => reject(new Error(`WebSocket refused with ${response.statusCode}`)));
      socket.once("error", reject);
    });
    return raw;
  }

  send(data: string | Uint8Array): void {
    this.socket.send(data);
  }

  /** Text of every frame, joined. */
  get text(): string {
    return this.frames.map((frame) => frame.data.toString("utf8")).join("");
  }

  /** JSON records received so far (the handshake answer included). */
  get records(): unknown[] {
    return this.text
      .split("\u001e")
      .filter(Boolean)
      .map((record) => JSON.parse(record));
  }

  close(): void {
    this.socket.terminate();
  }
}
