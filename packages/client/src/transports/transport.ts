/**
 * The seam every client transport fills the same way (five members, as SignalR's ITransport),
 * so the connection never branches on which one it has.
 *
 * @module
 */

/** A way to move frames between the client and the server. */
export interface Transport {
  /** The name negotiate uses: `WebSockets`, `ServerSentEvents` or `LongPolling`. */
  readonly name: string;
  /** Connects to `url` (with `id` already in it). `binary` for MessagePack. */
  connect(url: string, binary: boolean): Promise<void>;
  /** Sends one frame (one or more complete records). */
  send(data: string | Uint8Array): Promise<void>;
  /** Closes; `onclose` is called once, without an error. */
  stop(): Promise<void>;
  /** Frames from the server. */
  onreceive: ((data: string | Uint8Array) => void) | undefined;
  /** The transport ended: with an error unless `stop()` ended it. */
  onclose: ((error?: Error) => void) | undefined;
}

/** A WebSocket class: the global in browsers (and Node 22+), or `ws` in Node 20. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[] | object, options?: object) => WebSocket;
