/**
 * `createAdmin`: a live admin page for a Hubwire server, served by the app's own server at a path
 * it chooses, behind an `authorize` hook the app must give. The page shows every node of the hubs
 * it is given (connections and messages per second over the last minutes, per node and per
 * transport), tables of connections and groups with search, and two actions (disconnect, remove
 * from a group). It reads all of it through the inspection API (`hubs.inspect(hub)`) over a hub
 * of its own, so it works across nodes wherever the backplane does.
 *
 * @module
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { createHubServer } from "@hubwire/server";
 * import { createAdmin } from "@hubwire/admin";
 *
 * const admin = createAdmin({ hubs: { chat }, authorize: ({ headers }) => isOperator(headers.cookie) });
 * const hubs = createHubServer({ hubs: { "/chat": chat, [admin.hubPath]: admin.hub } });
 * admin.attach(hubs);
 * const server = createServer((request, response) => admin.handleRequest(request, response) || app(request, response));
 * hubs.attach(server);
 * ```
 */
import type { HubDefinition, HubServerCore, NodeRequest, NodeResponse } from "@hubwire/server";
import type { AdminContract } from "./admin-contract.js";
import { adminHub } from "./admin-hub.js";
import type { AdminAuthorize, AdminOptions } from "./admin-options.js";
import { pageHtml, pageScript } from "./admin-page.js";

/** A mounted admin page: its hub (for `createHubServer`), and its page (for the HTTP server). */
export interface Admin {
  /** Where the page is served (`/admin` by default). */
  readonly path: string;
  /** Where to mount {@link Admin.hub}: `{path}/hub`. */
  readonly hubPath: string;
  /** The page's own hub; mount it at {@link Admin.hubPath}. */
  readonly hub: HubDefinition<AdminContract>;
  /** Gives the admin the server whose hubs it shows (once `createHubServer` has made it). */
  attach(hubs: Pick<HubServerCore, "inspect">): void;
  /**
   * Serves the page and its script to requests `authorize` admits (403 to the others, with
   * nothing of the page); returns false, without answering, for a request that is not the page's.
   */
  handleRequest(request: NodeRequest, response: NodeResponse): boolean;
}

/**
 * Creates the admin page. Throws when `authorize` is missing and `localDevelopment` is not set:
 * the page can disconnect any client, so it is never open by default.
 *
 * @example
 * ```ts
 * const admin = createAdmin({ hubs: { chat }, authorize: ({ headers }) => headers["x-operator"] === process.env.OPERATOR_KEY });
 * ```
 */
export function createAdmin(options: AdminOptions): Admin {
  const authorize: AdminAuthorize | undefined = options.authorize ?? (options.localDevelopment === true ? () => true : undefined);
  if (authorize === undefined) {
    throw new TypeError(
      "createAdmin needs an authorize hook (who may see the page and disconnect clients). For a developer's own machine only, pass localDevelopment: true instead.",
    );
  }
  const path = (options.path ?? "/admin").replace(/\/+$/, "");
  if (!path.startsWith("/")) throw new TypeError(`The admin path '${path}' must start with '/'.`);
  if (Object.keys(options.hubs).length === 0) throw new TypeError("createAdmin needs at least one hub to show (the hubs option).");
  const refreshMs = options.refreshMs ?? 2_000;
  let server: Pick<HubServerCore, "inspect"> | undefined;
  const hub = adminHub(options.hubs, () => server, authorize);

  return {
    path,
    hubPath: `${path}/hub`,
    hub,
    attach(hubs) {
      server = hubs;
    },
    handleRequest(request, response) {
      const url = new URL(request.url ?? "/", "http://localhost");
      const page = url.pathname === path || url.pathname === `${path}/`;
      const script = url.pathname === `${path}/admin.js`;
      if (!page && !script) return false;
      if (request.method !== "GET" && request.method !== "HEAD") {
        response.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" }).end("Method not allowed.");
        return true;
      }
      void Promise.resolve()
        .then(() => authorize({ headers: request.headers, principal: undefined }))
        .then((allowed) => {
          if (!allowed) {
            response.writeHead(403, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" }).end("Forbidden.");
            return;
          }
          const [type, body] = page ? ["text/html; charset=utf-8", pageHtml(path, refreshMs)] : ["text/javascript; charset=utf-8", pageScript()];
          response
            .writeHead(200, { "Content-Type": type, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" })
            .end(request.method === "HEAD" ? "" : body);
        })
        .catch((error: unknown) => {
          // A hook that fails denies: the page is never shown by accident.
          console.error("[hubwire-admin] Refused a request for the admin page: the authorize hook or the page failed.", error);
          if (!response.headersSent)
            response.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" }).end("The admin page failed; see the server's log.");
        });
      return true;
    },
  };
}
