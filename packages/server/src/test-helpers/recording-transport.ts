/** A transport for unit tests of connections and the dispatcher: no sockets, it records what it is sent. */
import { type HubMessage, TransportName } from "@hubwire/protocol";
import type { Transport, TransportRequest } from "../transports/transport.js";

const RS = "\u001e";

/** A WebSocket-like transport that records what it is sent. */
export class RecordingTransport implements Transport {
  readonly name = TransportName.WebSockets;
  readonly hasInherentKeepAlive: boolean;
  readonly supportsBinary = true;
  readonly isDraining = false;
  readonly bufferedBytes = 0;
  idleSince: number | undefined = undefined;
  readonly frames: string[] = [];
  closedWith: number | undefined;

  constructor(options: { inherentKeepAlive?: boolean } = {}) {
    this.hasInherentKeepAlive = options.inherentKeepAlive ?? false;
  }

  send(data: Uint8Array): void {
    this.frames.push(Buffer.from(data).toString("utf8"));
  }

  close(code = 1000): void {
    this.closedWith ??= code;
  }

  pause(): void {}
  resume(): void {}
  handleRequest(_kind: TransportRequest): void {}

  /** Every record sent after the handshake, parsed. */
  get messages(): HubMessage[] {
    return this.frames
      .join("")
      .split(RS)
      .filter((record) => record !== "" && record !== "{}")
      .map((record) => JSON.parse(record) as HubMessage);
  }
}
