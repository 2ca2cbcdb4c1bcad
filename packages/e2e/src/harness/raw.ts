/** Raw-socket attackers: bytes straight onto a TCP socket, and a minimal hub socket over ws. */
import { connect } from "node:net";
import { WebSocket } from "ws";

export interface RawAnswer {
  /** Everything the server wrote. */
  readonly text: string;
  /** The HTTP status, if the answer starts with a status line. */
  readonly status: number | undefined;
  /** Whether the server closed the socket (rather than our timeout ending the wait). */
  readonly closedByServer: boolean;
}

/**
 * Writes `chunks` (a function may write more, slowly) and collects the answer until the server
 * closes the socket or `timeoutMs` passes. `readAfterMs` leaves what arrives unread in the
 * kernel for that long, as a busy or slow client does.
 */
export function rawExchange(
  port: number,
  chunks: ReadonlyArray<string | Buffer>,
  options: { timeoutMs?: number; endAfterWrite?: boolean; readAfterMs?: number } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const received: Buffer[] = [];
    let closedByServer = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(received).toString("latin1");
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      resolve({ text, status: status === undefined ? undefined : Number(status), closedByServer });
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 3_000);
    socket.on("data", (chunk) => received.push(chunk));
    socket.on("end", () => {
      closedByServer = true;
      finish();
    });
    socket.on("close", () => {
      closedByServer = true;
      finish();
    });
    socket.on("error", () => undefined);
    socket.on("connect", () => {
      for (const chunk of chunks) socket.write(chunk);
      if (options.endAfterWrite === true) socket.end();
      if (options.readAfterMs !== undefined) {
        socket.pause();
        setTimeout(() => socket.resume(), options.readAfterMs);
      }
    });
  });
}

/** An HTTP/1.1 request as text. */
export function httpRequest(method: string, path: string, headers: Record<string, string | number> = {}, body = ""): string {
  // Connection: close, so the server ends the socket after its answer (unless the caller says otherwise).
  const lines = [
    `${method} ${path} HTTP/1.1`,
    "Host: 127.0.0.1",
    ...Object.entries({ Connection: "close", ...headers }).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}

/** A WebSocket upgrade request as text. */
export function upgradeRequest(path: string, headers: Record<string, string> = {}): string {
  return httpRequest("GET", path, {
    Connection: "Upgrade",
    Upgrade: "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    ...headers,
  });
}

/** A hub connection over ws that speaks JSON by hand and collects records. */
export class RawHubSocket {
  readonly records: Array<Record<string, unknown>> = [];
  closed: { code: number; reason: string } | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data: Buffer) => {
      for (const record of data.toString().split("\u001e").filter(Boolean)) {
        try {
          this.records.push(JSON.parse(record) as Record<string, unknown>);
        } catch {
          this.records.push({ unparsable: record });
        }
      }
    });
    socket.on("close", (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  /** Opens and completes the handshake (version 1 unless given; 2 for stateful reconnect). */
  static async open(
    url: string,
    options: { headers?: Record<string, string>; protocol?: "json" | "messagepack"; version?: number } = {},
  ): Promise<RawHubSocket> {
    const socket = new WebSocket(url.replace(/^http/, "ws"), { headers: options.headers ?? {} });
    const hub = new RawHubSocket(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("unexpected-response", (_request, response) => reject(new Error(`refused with ${response.statusCode}`)));
      socket.once("error", reject);
    });
    socket.send(`{"protocol":"${options.protocol ?? "json"}","version":${options.version ?? 1}}\u001e`);
    await hub.until(() => hub.records.length >= 1, "the handshake answer");
    return hub;
  }

  send(data: string | Buffer): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(data);
  }

  /** Sends an invocation and waits for its completion. */
  async invoke(target: string, args: unknown[], invocationId = String(Math.random())): Promise<Record<string, unknown>> {
    this.send(`${JSON.stringify({ type: 1, invocationId, target, arguments: args })}\u001e`);
    let found: Record<string, unknown> | undefined;
    await this.until(
      () => (found = this.records.find((record) => record["type"] === 3 && record["invocationId"] === invocationId)) !== undefined,
      `the completion of ${target}`,
    );
    return found!;
  }

  async until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const started = Date.now();
    while (!condition()) {
      if (Date.now() - started > timeoutMs) throw new Error(`Timed out waiting for ${what}.`);
      if (this.closed !== undefined && !condition()) throw new Error(`Closed (${this.closed.code} ${this.closed.reason}) while waiting for ${what}.`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  close(): void {
    this.socket.terminate();
  }
}

export async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `promise`, or a rejection naming `what` once `timeoutMs` has passed: a test fails on the step that hangs, not at its own timeout. */
export async function within<T>(promise: Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}.`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
