/**
 * The links of stateful connections re-attached over HTTP. `@hubwire/client` numbers its
 * re-attaches, and every request of its Nth names its link (`link=N`; none for the first). Over
 * HTTP the requests of one link may still arrive after the next has begun (a POST late through a
 * proxy or a Redis forward, a poll the client aborted), and a poll cannot tell otherwise that the
 * answer before it was lost; the link says which requests belong to the transport in use:
 *
 * - a request of an older link is refused (409): served, a late POST would be counted as new, a
 *   late poll would take what the client never reads;
 * - a poll or an event stream of a newer link re-attaches the connection;
 * - any other request of a newer link is refused (409) until its link is re-attached;
 * - a poll or an event stream of the current link does not re-attach (its client would never
 *   send its Sequence): refused (409) when the connection has lost its transport.
 *
 * Each refusal is logged at debug with the connection and both links.
 *
 * @module
 */

import { queryParameter } from "./http-request.js";
import type { Logger } from "./logger.js";
import type { TransportRequest } from "./transports/transport.js";

/** A request the link rule refuses: its answer. */
export interface LinkRefusal {
  readonly status: 409;
  readonly message: string;
}

/** What a request of a connection that can re-attach is, by its link. */
export type LinkVerdict =
  /** Of the current link: served by the transport in use, if any. */
  | "current"
  /** A poll or an event stream of a newer link: it re-attaches the connection. */
  | "reattach"
  | LinkRefusal;

/** The connection a request names: its token keys the links, its id goes into the log. */
interface LinkedConnection {
  readonly connectionToken: string;
  readonly connectionId: string;
}

/**
 * The current link of each stateful connection re-attached over HTTP, by token.
 *
 * @example
 * ```ts
 * const links = new ReattachLinks(logger);
 * const link = ReattachLinks.of(search);
 * const verdict = links.judge(connection, link, "send");
 * if (typeof verdict === "object") return refuse(exchange, verdict.status, verdict.message);
 * links.attached(connection, link); // once a poll of a newer link has re-attached it
 * ```
 */
export class ReattachLinks {
  readonly #current = new Map<string, number>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** The link a request names: `link=N` in its query, 0 when none (or not a positive integer). */
  static of(search: string): number {
    const link = Number(queryParameter(search, "link") ?? 0);
    return Number.isSafeInteger(link) && link > 0 ? link : 0;
  }

  /** Sorts a request of a connection that can re-attach by its link. */
  judge(connection: LinkedConnection, link: number, kind: TransportRequest): LinkVerdict {
    const current = this.#current.get(connection.connectionToken) ?? 0;
    if (link < current) return this.#refuse(connection, link, current, "This request was sent on a link of the connection that a re-attach has replaced.");
    if (link === current) return "current";
    if (kind === "poll" || kind === "events") return "reattach";
    // A DELETE of a newer link is the client ending it: the endpoint serves it as the current link's.
    if (kind === "delete") return "current";
    return this.#refuse(connection, link, current, "Re-attach the connection on this link before sending on it.");
  }

  /** A poll or an event stream of the current link, for a connection that lost its transport: refused. */
  lostTransport(connection: LinkedConnection, link: number): LinkRefusal | undefined {
    const current = this.#current.get(connection.connectionToken) ?? 0;
    if (link > current) return undefined;
    return this.#refuse(connection, link, current, "The connection lost its transport: re-attach it on a new link.");
  }

  /** A request of `link` re-attached the connection: it is the current link from now on. */
  attached(connection: LinkedConnection, link: number): void {
    this.#current.set(connection.connectionToken, link);
  }

  /** The connection ended. */
  forget(connection: LinkedConnection): void {
    this.#current.delete(connection.connectionToken);
  }

  #refuse(connection: LinkedConnection, link: number, current: number, message: string): LinkRefusal {
    this.#logger.log("debug", "A request was refused by its re-attach link.", {
      connectionId: connection.connectionId,
      link,
      currentLink: current,
      reason: message,
    });
    return { status: 409, message };
  }
}
