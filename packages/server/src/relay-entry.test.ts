import { describe, expect, it } from "vitest";
import type { RelaySocket } from "./connection-routing.js";
import { silentLogger } from "./logger.js";
import { sendableCloseCode, spliceWebSockets } from "./relay-entry.js";
import type { RuntimeWebSocket, WebSocketListener } from "./runtime/runtime-websocket.js";

/** A socket that records what is done to it and lets the test play its peer. */
class RecordedSocket implements RelaySocket {
  readonly sent: string[] = [];
  closedWith: number | undefined;
  paused = false;
  bufferedBytes = 0;
  listener: WebSocketListener | undefined;
  flow: ((paused: boolean) => void) | undefined;

  get isOpen(): boolean {
    return this.closedWith === undefined;
  }
  send(data: Uint8Array): void {
    this.sent.push(Buffer.from(data).toString());
  }
  close(code: number): void {
    this.closedWith ??= code;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  listen(listener: WebSocketListener): void {
    this.listener = listener;
  }
  onFlow(listener: (paused: boolean) => void): void {
    this.flow = listener;
  }
}

const text = (value: string) => Buffer.from(value);

describe("spliceWebSockets", () => {
  it("carries messages both ways, and a close either way with a code a close frame can carry", () => {
    const client = new RecordedSocket();
    const holder = new RecordedSocket();
    spliceWebSockets(client as RuntimeWebSocket, holder, { maxBufferedBytes: 1_000, logger: silentLogger });
    client.listener!.message(text("to holder"), false);
    holder.listener!.message(text("to client"), false);
    expect(holder.sent).toEqual(["to holder"]);
    expect(client.sent).toEqual(["to client"]);
    // The holder's end broke (no close frame): the client hears 1011 and re-attaches.
    holder.listener!.closed(1006, "");
    expect(client.closedWith).toBe(1011);
  });

  it("passes the client's close code to the holder as it came, 1006 included", () => {
    const client = new RecordedSocket();
    const holder = new RecordedSocket();
    spliceWebSockets(client as RuntimeWebSocket, holder, { maxBufferedBytes: 1_000, logger: silentLogger });
    client.listener!.closed(1006, "");
    expect(holder.closedWith).toBe(1006);
  });

  it("pauses and resumes the client's socket as the holder says", () => {
    const client = new RecordedSocket();
    const holder = new RecordedSocket();
    spliceWebSockets(client as RuntimeWebSocket, holder, { maxBufferedBytes: 1_000, logger: silentLogger });
    holder.flow!(true);
    expect(client.paused).toBe(true);
    holder.flow!(false);
    expect(client.paused).toBe(false);
  });

  it("cuts a client that does not read (1008 both ways) once its queue passes the bound", () => {
    const client = new RecordedSocket();
    const holder = new RecordedSocket();
    spliceWebSockets(client as RuntimeWebSocket, holder, { maxBufferedBytes: 1_000, logger: silentLogger });
    client.bufferedBytes = 1_000;
    holder.listener!.message(text("at the bound"), false);
    expect(client.closedWith).toBeUndefined();
    client.bufferedBytes = 1_001;
    holder.listener!.message(text("over it"), false);
    expect(client.closedWith).toBe(1008);
    expect(holder.closedWith).toBe(1008);
  });
});

describe("sendableCloseCode", () => {
  it("keeps codes a close frame may carry and maps the reserved ones", () => {
    expect([1000, 1001, 1008, 1011, 1014, 3000, 4999].map(sendableCloseCode)).toEqual([1000, 1001, 1008, 1011, 1014, 3000, 4999]);
    expect(sendableCloseCode(1005)).toBe(1000);
    expect([1004, 1006, 1015, 999, 2000, 5000].map(sendableCloseCode)).toEqual([1011, 1011, 1011, 1011, 1011, 1011]);
  });
});
