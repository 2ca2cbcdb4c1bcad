/**
 * The options of `createAdmin`, and the request its `authorize` hook decides on.
 *
 * @module
 */
import type { HttpHeaders, HubDefinition, Principal } from "@hubwire/server";

/** What `authorize` sees of a request for the page or of a connection to its hub. */
export interface AdminRequest {
  /** Lower-case names; cookies are here (a connection's `Authorization` header is not). */
  readonly headers: HttpHeaders;
  /** What the server's `authenticate` made of a connection to the admin hub; undefined for the page itself. */
  readonly principal: Principal | undefined;
}

/** A hub the page shows, whatever its contract. */
// biome-ignore lint/suspicious/noExplicitAny: any contract; the page reads hubs only through inspection, which is untyped by contract.
export type ShownHub = HubDefinition<any>;

/** Decides whether a request may see the admin page and act through it. */
export type AdminAuthorize = (request: AdminRequest) => boolean | Promise<boolean>;

export interface AdminOptions {
  /** The hubs the page shows, by the name it lists them under. Each must be mounted on the server attached. */
  readonly hubs: Readonly<Record<string, ShownHub>>;
  /**
   * Who may open the page and act through it: called for the page and for every connection to
   * its hub. Required: without it `createAdmin` throws, unless `localDevelopment` says otherwise.
   */
  readonly authorize?: AdminAuthorize;
  /**
   * Opens the page to anyone who can reach it, with no `authorize`. For a developer's own machine
   * only: the page can disconnect any client.
   */
  readonly localDevelopment?: boolean;
  /** Where the page is served. Default `/admin`; its hub is at `{path}/hub`. */
  readonly path?: string;
  /** How often the page refreshes, in milliseconds. Default 2,000. */
  readonly refreshMs?: number;
}
