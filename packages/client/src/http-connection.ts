/**
 * The connection below the hub (SignalR's HttpConnection): negotiate and its redirects, the access
 * token, choosing a transport and falling back to the next one, and the transport's lifetime, with
 * the re-attach of stateful reconnect. It moves frames and knows nothing of hub messages;
 * `HubConnection` speaks the hub protocol over it.
 *
 * @module
 * @example
 * ```ts
 * const connection = new HttpConnection("https://example.com/chat", { transports: ["WebSockets", "LongPolling"] });
 * connection.onreceive = (data) => console.log(data);
 * await connection.start(false);
 * await connection.send('{"protocol":"json","version":1}\u001e');
 * ```
 */
import * as ProtocolDefaults from "@hubwire/protocol/defaults";
import { ConnectionClosedError, TransportError } from "./errors.js";
import type { HttpOptions } from "./http.js";
import { type Logger, silentLogger } from "./logger.js";
import { LongPollingTransport } from "./transports/long-polling.js";
import { negotiate, withQuery } from "./transports/negotiate.js";
import { ServerSentEventsTransport } from "./transports/sse.js";
import type { Transport, TransportConstructor, WebSocketConstructor } from "./transports/transport.js";
import { WebSocketTransport } from "./transports/websocket.js";

/** Each transport by the name negotiate gives it, in SignalR's order of preference. */
const transports = {
  WebSockets: WebSocketTransport,
  ServerSentEvents: ServerSentEventsTransport,
  LongPolling: LongPollingTransport,
} satisfies Record<string, TransportConstructor>;

/** The transports, in SignalR's order of preference. */
export type TransportName = keyof typeof transports;

/** Options of {@link HttpConnection}: how to reach the server. Every duration is in milliseconds. */
export interface HttpConnectionOptions {
  /** The transports this client may use; the server's list is walked in its order. Default all three. */
  readonly transports?: readonly TransportName[];
  /** Connect a WebSocket directly, without negotiate (WebSockets only). */
  readonly skipNegotiation?: boolean;
  /** Called before every HTTP request and WebSocket connect; its token goes in `Authorization` (or `access_token` for browser WebSockets). */
  readonly accessTokenFactory?: () => string | undefined | Promise<string | undefined>;
  /** Headers for every request (and the WebSocket upgrade, in Node). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Send cookies cross-origin. Default true, as SignalR. */
  readonly withCredentials?: boolean;
  /** A WebSocket class where there is no global one (Node 20: `import { WebSocket } from "ws"`). */
  readonly WebSocket?: WebSocketConstructor;
  /** A fetch where there is no global one. */
  readonly fetch?: typeof fetch;
  /** Timeout of negotiate and sends over HTTP. Default 100 s. */
  readonly httpTimeoutMs?: number;
  readonly logger?: Logger;
}

/**
 * How the layer above keeps a dropped transport for stateful reconnect: told of each drop, with
 * `connect` (re-attaches the same connection over the same transport) and `end` (ends it for good,
 * reporting `error`), it returns whether it takes the drop on; if not (or nothing), the drop ends the connection.
 */
export type Resume = (error: Error | undefined, connect: () => Promise<void>, end: (error: Error | undefined) => void) => boolean | undefined;

/**
 * A connection to a SignalR endpoint over the first transport that works.
 *
 * @example
 * ```ts
 * const connection = new HttpConnection("/chat", { skipNegotiation: true, transports: ["WebSockets"] });
 * connection.onclose = (error) => console.log("closed", error);
 * await connection.start(false);
 * ```
 */
export class HttpConnection {
  /** The server's public id for this connection; null before connecting and with skipNegotiation. */
  connectionId: string | null = null;
  /** Frames from the server; set before `start`. */
  onreceive: Transport["onreceive"];
  /** The transport ended, and was not re-attached: with an error unless `stop()` ended it. */
  onclose: Transport["onclose"];
  /** Set before `start` to ask the server for stateful reconnect, and to re-attach a dropped transport. */
  resume: Resume | undefined;
  readonly #url: string;
  readonly #options: HttpConnectionOptions;
  readonly #http: HttpOptions;
  readonly #logger: Logger;
  #transport: Transport | undefined;
  #transportUrl = "";
  #binary = false;
  /** The re-attaches so far: each one's requests name its link, so the server can tell them from a link given up. */
  #link = 0;

  constructor(url: string, options: HttpConnectionOptions = {}) {
    this.#url = url;
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#http = {
      fetch: options.fetch ?? globalThis.fetch?.bind(globalThis),
      headers: options.headers ?? {},
      accessToken: options.accessTokenFactory,
      timeoutMs: options.httpTimeoutMs ?? ProtocolDefaults.httpRequestTimeoutMs,
      withCredentials: options.withCredentials ?? true,
    };
  }

  /** The transport in use; undefined before `start` and once it has closed. */
  get transport(): Transport | undefined {
    return this.#transport;
  }

  /**
   * Negotiates and connects the first transport that works; `binary` for MessagePack. Resolves
   * with whether the server agreed to stateful reconnect over it.
   */
  async start(binary: boolean): Promise<boolean> {
    this.#binary = binary;
    const [transport, stateful] = await this.#connectTransport();
    this.#transport = transport;
    transport.onreceive = this.onreceive;
    transport.onclose = (error) => this.#closed(transport, error);
    return stateful;
  }

  /** Sends one frame; rejects with ConnectionClosedError when no transport is connected. */
  async send(data: string | Uint8Array): Promise<void> {
    const transport = this.#transport;
    if (transport === undefined) throw new ConnectionClosedError("The connection is not connected.");
    await transport.send(data);
  }

  /** Stops the transport; `onclose` follows, without an error. */
  async stop(): Promise<void> {
    await this.#transport?.stop();
  }

  /** Negotiates and walks the transports the server offers, in order, until one connects. */
  async #connectTransport(): Promise<[Transport, boolean]> {
    const allowed = this.#options.transports ?? (Object.keys(transports) as TransportName[]);
    const binary = this.#binary;
    if (this.#options.skipNegotiation === true) {
      if (allowed.length !== 1 || allowed[0] !== "WebSockets") throw new Error("Negotiation can only be skipped when using the WebSocket transport directly.");
      const transport = this.#createTransport("WebSockets");
      await transport.connect((this.#transportUrl = this.#url), binary);
      this.connectionId = null;
      return [transport, false];
    }
    const failures: string[] = [];
    const wantStateful = this.resume !== undefined;
    let negotiated = await negotiate(this.#http, this.#url, wantStateful);
    const offered = negotiated.transports.filter(
      (entry) => allowed.includes(entry.transport as TransportName) && entry.transferFormats.includes(binary ? "Binary" : "Text"),
    );
    for (const [index, entry] of offered.entries()) {
      // Each attempt after a failure gets a fresh connection: the failed one may be half-open.
      if (index > 0) negotiated = await negotiate(this.#http, this.#url, wantStateful);
      const transport = this.#createTransport(entry.transport as TransportName, negotiated.accessToken);
      const url = withQuery(negotiated.url, `id=${encodeURIComponent(negotiated.connectionToken)}`);
      try {
        await transport.connect(url, binary);
        this.#transportUrl = url;
        this.connectionId = negotiated.connectionId;
        return [transport, negotiated.useStatefulReconnect];
      } catch (error) {
        this.#logger.warn(`The ${entry.transport} transport failed; trying the next.`, error);
        failures.push((error as Error).message);
      }
    }
    throw new TransportError(
      "all",
      `Unable to connect to the server with any of the available transports.${failures.length > 0 ? ` ${failures.join(" ")}` : " None of them is allowed."}`,
    );
  }

  #createTransport(name: TransportName, redirectToken?: string): Transport {
    const http = redirectToken === undefined ? this.#http : { ...this.#http, accessToken: () => redirectToken };
    const Transport: TransportConstructor = transports[name];
    return new Transport(http, this.#options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined));
  }

  #closed(transport: Transport, error: Error | undefined): void {
    if (transport !== this.#transport) return;
    const end = (reason: Error | undefined) => {
      if (transport !== this.#transport) return;
      this.#transport = undefined;
      this.onclose?.(reason);
    };
    if (!this.resume?.(error, () => transport.connect(`${this.#transportUrl}&link=${++this.#link}`, this.#binary), end)) end(error);
  }
}
