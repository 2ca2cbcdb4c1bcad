/**
 * An endpoint's side of routing between nodes (the seam is `connection-routing.ts`): what it does
 * with a request for a token it does not hold. A transport's first request claims a connection
 * another node only negotiated; a later one is forwarded to the node that holds the connection and
 * answered from there; a WebSocket or an event stream that re-attaches a connection another node
 * holds is relayed to it (`relay-entry.ts`); anything else is 404, and 503 when the other nodes
 * cannot be asked.
 *
 * @module
 */
import type { TakenOver } from "./connection-keeping.js";
import type { ConnectionRouting, ForwardedRequest, Located, NegotiatedConnection } from "./connection-routing.js";
import { forwardedHeaders, RoutingError } from "./connection-routing.js";
import { refuse, respondText } from "./http-request.js";
import { type RelayEntrySide, relayEventStream, relayWebSocket } from "./relay-entry.js";
import type { BodyReader, HttpExchange, HubRequest } from "./runtime/http-exchange.js";
import type { WebSocketHandshake } from "./runtime/runtime-websocket.js";
import type { TransportRequest } from "./transports/transport.js";

/** What the routing needs of its endpoint. */
export interface RoutedEndpointSide<TConnection> extends RelayEntrySide {
  /** The largest request body a forward carries. */
  readonly maxFrameBytes: number;
  /** Takes in a connection another node negotiated and released to this one; undefined (and answered) at a connection cap. */
  adopt(request: HubRequest | HttpExchange, token: string, negotiated: NegotiatedConnection): TConnection | undefined;
  /** Takes in a connection taken over from a node that died; undefined at a connection cap or when it cannot be resumed. */
  resume(request: HubRequest, token: string, taken: TakenOver): TConnection | undefined;
  /** The connection this node holds under `token` now, if any. */
  held(token: string): TConnection | undefined;
  /** Runs a request for a connection this node now holds. */
  handleHttp(exchange: HttpExchange, search: string): void;
}

/**
 * Routes one endpoint's requests for connections other nodes hold.
 *
 * @example
 * ```ts
 * const router = new EndpointRouting(application.routing, endpointSide);
 * if (!byToken.has(token)) return void router.route(exchange, search, "poll", token);
 * ```
 */
export class EndpointRouting<TConnection> {
  readonly #routing: ConnectionRouting;
  readonly #endpoint: RoutedEndpointSide<TConnection>;
  /** Tokens this node is claiming from another: a forward for one waits for the claim to end. */
  readonly #adopting = new Map<string, Promise<unknown>>();

  constructor(routing: ConnectionRouting, endpoint: RoutedEndpointSide<TConnection>) {
    this.#routing = routing;
    this.#endpoint = endpoint;
  }

  /** Settles once this node's claim of `token` has played out; undefined when none is under way. */
  adopting(token: string): Promise<unknown> | undefined {
    return this.#adopting.get(token);
  }

  /** A request for a token this node does not hold: claimed from the node that negotiated it, forwarded (an event stream relayed) to the one that holds it, or 404. */
  async route(exchange: HttpExchange, search: string, kind: TransportRequest, token: string): Promise<void> {
    let located: Located;
    try {
      located = await this.#locate(token, kind === "poll" || kind === "events");
    } catch (error) {
      this.#endpoint.logger.log("warn", "Could not ask the other nodes for a connection.", { path: this.#endpoint.path, error });
      return refuse(exchange, 503, "The other nodes of this hub cannot be reached; try again.");
    }
    if (located.kind === "unknown") {
      // A poll or an event stream may re-attach a connection whose node died.
      const resumed = kind === "poll" || kind === "events" ? await this.#takeOver(exchange, token) : undefined;
      if (resumed === "unavailable") return refuse(exchange, 503, takeOverUnavailable);
      if (resumed === undefined) return refuse(exchange, 404, "No Connection with that ID");
      return this.#endpoint.handleHttp(exchange, search);
    }
    if (located.kind === "claimed") {
      if (this.#endpoint.adopt(exchange, token, located) === undefined) return;
      return this.#endpoint.handleHttp(exchange, search);
    }
    // An event stream that re-attaches a connection whose transport ran on another node.
    if (kind === "events") return relayEventStream(this.#routing, located.nodeId, exchange, this.#endpoint);
    await this.#forward(exchange, located.nodeId);
  }

  /**
   * A WebSocket for a token this node does not hold: a connection another node only negotiated is
   * claimed (and returned, to open here); one another node holds is relayed there, its handshake
   * answered by what the holder decides ("answered"); one whose node died and that was kept is
   * taken over (and returned, to re-attach here); for none, undefined (the caller answers 404).
   */
  async webSocket(
    request: HubRequest,
    token: string,
    handshake: WebSocketHandshake,
    limits: { readonly maxMessageBytes: number },
  ): Promise<TConnection | "answered" | undefined> {
    let located: Located;
    try {
      located = await this.#locate(token, true);
    } catch (error) {
      this.#endpoint.logger.log("warn", "Could not ask the other nodes for a connection.", { path: this.#endpoint.path, error });
      handshake.refuse(503, "The other nodes of this hub cannot be reached; try again.");
      return "answered";
    }
    if (located.kind === "claimed") return this.#endpoint.adopt(request, token, located);
    if (located.kind === "unknown") {
      const resumed = await this.#takeOver(request, token);
      if (resumed !== "unavailable") return resumed;
      handshake.refuse(503, takeOverUnavailable);
      return "answered";
    }
    await relayWebSocket(this.#routing, located.nodeId, request, handshake, limits, this.#endpoint);
    return "answered";
  }

  /**
   * No live node holds `token`: takes its connection over from where it was kept, when its node
   * died with it (connection-keeping.ts). Undefined when none was kept (or it cannot be resumed
   * here); "unavailable" when the store cannot be read or the holder's lease has not run out.
   */
  async #takeOver(request: HubRequest, token: string): Promise<TConnection | "unavailable" | undefined> {
    const keeping = this.#routing.keeping;
    if (keeping === undefined) return undefined;
    let taken: TakenOver | undefined;
    try {
      taken = await keeping.takeOver(token);
    } catch (error) {
      this.#endpoint.logger.log("warn", "Could not take over a connection whose node is gone.", { path: this.#endpoint.path, error });
      return "unavailable";
    }
    // Taken over here by an earlier request while this one was locating it (a client's retried re-attach).
    if (taken === undefined) return this.#endpoint.held(token);
    return this.#endpoint.resume(request, token, taken);
  }

  /** Asks the other nodes for a token; a claim is remembered until it ends, so that forwards for it wait. */
  #locate(token: string, claim: boolean): Promise<Located> {
    const located = this.#routing.locate(token, claim);
    if (!claim || this.#adopting.has(token)) return located;
    // Adoption follows the answer in the same turn; forwards that arrive meanwhile wait one turn more.
    const settled = located.then(
      () => new Promise((resolve) => setImmediate(resolve)),
      () => undefined,
    );
    this.#adopting.set(token, settled);
    void settled.then(() => this.#adopting.delete(token));
    return located;
  }

  /** Sends a request to the node that holds its connection and answers with what it answered. */
  async #forward(exchange: HttpExchange, nodeId: string): Promise<void> {
    const { maxFrameBytes, logger, path } = this.#endpoint;
    const body = await readWhole(exchange, maxFrameBytes);
    if (body === "too large") {
      respondText(exchange, 413, `The request body is over the limit of ${maxFrameBytes} bytes.`);
      return exchange.closeAfterAnswer();
    }
    if (body === "broken") return;
    const gone = new AbortController();
    exchange.onClose(() => gone.abort());
    const request: ForwardedRequest = {
      method: exchange.method,
      url: exchange.url,
      headers: forwardedHeaders(exchange.headers),
      remoteAddress: exchange.remoteAddress,
      body,
    };
    try {
      const answer = await this.#routing.forward(nodeId, request, gone.signal);
      exchange.respond(answer.status, answer.headers, answer.body);
    } catch (error) {
      if (gone.signal.aborted) return;
      const status = error instanceof RoutingError ? error.status : 503;
      logger.log(status === 404 ? "debug" : "warn", "A request could not be forwarded to the node holding its connection.", { path, nodeId, error });
      respondText(exchange, status, status === 404 ? "No Connection with that ID" : "The node that holds this connection cannot be reached; try again.");
    }
  }
}

/** The answer (503) when a connection whose node died cannot be taken over now. */
const takeOverUnavailable = "The connection's state cannot be read now; try again.";

/** A request's whole body, up to `limit` bytes. */
function readWhole(exchange: HttpExchange, limit: number): Promise<Uint8Array | "too large" | "broken"> {
  return new Promise((resolve) => {
    exchange.readBody(new WholeBody(exchange, limit, resolve));
    exchange.resumeBody();
  });
}

/**
 * Collects a body for {@link readWhole}. A class rather than an object literal: V8 pretenures a
 * literal's allocation site when its objects survive a young collection, and a pretenured reader
 * held by its request's listeners keeps the young request alive until a full collection (as
 * `PostBody` in `transports/http-post.ts` explains).
 */
class WholeBody implements BodyReader {
  readonly #exchange: HttpExchange;
  readonly #limit: number;
  readonly #resolve: (body: Uint8Array | "too large" | "broken") => void;
  readonly #chunks: Uint8Array[] = [];
  #total = 0;

  constructor(exchange: HttpExchange, limit: number, resolve: (body: Uint8Array | "too large" | "broken") => void) {
    this.#exchange = exchange;
    this.#limit = limit;
    this.#resolve = resolve;
  }

  data(chunk: Uint8Array): void {
    this.#total += chunk.byteLength;
    if (this.#total > this.#limit) {
      this.#exchange.pauseBody();
      this.#resolve("too large");
      return;
    }
    this.#chunks.push(chunk);
  }

  end(): void {
    this.#resolve(Buffer.concat(this.#chunks, this.#total));
  }

  error(): void {
    this.#resolve("broken");
  }
}
