/**
 * Negotiate, the client's side: `POST {hub}/negotiate?negotiateVersion=1`, following redirects
 * (Azure SignalR Service style `{url, accessToken}`), and the URL each transport then opens.
 *
 * @module
 */
import * as ProtocolDefaults from "@hubwire/protocol/defaults";
import { type HttpOptions, request } from "../http.js";

/** What the server offered. */
export interface Negotiated {
  /** The hub URL after redirects. */
  readonly url: string;
  readonly connectionId: string;
  /** The secret that opens the connection (the id, with version 0 servers). */
  readonly connectionToken: string;
  readonly transports: ReadonlyArray<{ readonly transport: string; readonly transferFormats: readonly string[] }>;
  readonly useStatefulReconnect: boolean;
  /** A token the server told the client to use from now on (redirects). */
  readonly accessToken: string | undefined;
}

interface NegotiateBody {
  error?: string;
  url?: string;
  accessToken?: string;
  ProtocolVersion?: string;
  negotiateVersion?: number;
  connectionId?: string;
  connectionToken?: string;
  availableTransports?: Array<{ transport: string; transferFormats: string[] }>;
  useStatefulReconnect?: boolean;
}

/** `url` with query parameters added. */
export function withQuery(url: string, query: string): string {
  return `${url}${url.includes("?") ? "&" : "?"}${query}`;
}

/** Runs negotiate against `url`. Rejects with the server's `error` text, or for a non-SignalR answer. */
export async function negotiate(http: HttpOptions, url: string, statefulReconnect: boolean): Promise<Negotiated> {
  let accessToken: string | undefined;
  for (let redirects = 0; redirects <= ProtocolDefaults.maxNegotiateRedirects; redirects++) {
    const queryAt = url.indexOf("?");
    const base = queryAt === -1 ? url : url.slice(0, queryAt);
    const query = queryAt === -1 ? "" : url.slice(queryAt + 1);
    const negotiateUrl = withQuery(
      `${base}/negotiate${query ? `?${query}` : ""}`,
      `negotiateVersion=1${statefulReconnect ? "&useStatefulReconnect=true" : ""}`,
    );
    const options = accessToken === undefined ? http : { ...http, accessToken: () => accessToken };
    const response = await request(options, "negotiate", negotiateUrl, { method: "POST" });
    const body = (await response.json()) as NegotiateBody;
    if (body.error !== undefined) throw new Error(body.error);
    if (body.ProtocolVersion !== undefined) {
      throw new Error("This is an ASP.NET (not ASP.NET Core) SignalR server, which this client does not support.");
    }
    if (body.url !== undefined) {
      url = body.url;
      accessToken = body.accessToken ?? accessToken;
      continue;
    }
    if (body.useStatefulReconnect === true && !statefulReconnect) {
      throw new Error("Client didn't negotiate Stateful Reconnect but the server did.");
    }
    const connectionId = body.connectionId ?? "";
    return {
      url,
      connectionId,
      connectionToken: (body.negotiateVersion ?? 0) >= 1 && body.connectionToken !== undefined ? body.connectionToken : connectionId,
      transports: body.availableTransports ?? [],
      useStatefulReconnect: body.useStatefulReconnect === true,
      accessToken,
    };
  }
  throw new Error("Negotiate redirection limit exceeded.");
}
