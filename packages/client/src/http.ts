/**
 * HTTP for negotiate, sends, polls and event streams, on `fetch`: the access token and custom
 * headers on every request (the token asked for anew each time), a timeout, and errors that say
 * which transport failed.
 *
 * @module
 */
import { TransportError } from "./errors.js";

/** What every HTTP request of a connection shares. */
export interface HttpOptions {
  readonly fetch: typeof fetch;
  readonly headers: Readonly<Record<string, string>>;
  readonly accessToken: (() => string | undefined | Promise<string | undefined>) | undefined;
  /** Per request, except polls and event streams, which wait as long as the server lets them. */
  readonly timeoutMs: number;
  /** Browsers send cookies cross-origin only with this (SignalR's `withCredentials`, default true). */
  readonly withCredentials: boolean;
}

/** Runs one request; rejects with a TransportError for a network failure or a status of 400 and above. */
export async function request(
  http: HttpOptions,
  transport: string,
  url: string,
  init: RequestInit & { readonly timeoutMs?: number | null } = {},
): Promise<Response> {
  const token = await http.accessToken?.();
  const headers: Record<string, string> = { "X-Requested-With": "XMLHttpRequest", ...http.headers, ...(init.headers as Record<string, string>) };
  if (token) headers["Authorization"] = `Bearer ${token}`;
  const timeoutMs = init.timeoutMs === undefined ? http.timeoutMs : init.timeoutMs;
  const signals = [init.signal, timeoutMs === null ? undefined : AbortSignal.timeout(timeoutMs)].filter((s): s is AbortSignal => s != null);
  let response: Response;
  try {
    response = await http.fetch(url, {
      ...init,
      headers,
      credentials: http.withCredentials ? "include" : "same-origin",
      ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
    });
  } catch (error) {
    throw new TransportError(transport, `The request failed: ${(error as Error).message}`);
  }
  if (response.status >= 400) {
    const text = await response.text().catch(() => "");
    throw new TransportError(transport, `The server answered ${response.status}${text ? `: ${text}` : ""}`, response.status);
  }
  return response;
}

/** Sends frames by POST, as Server-Sent Events and long polling do. */
export async function post(http: HttpOptions, transport: string, url: string, data: string | Uint8Array | Blob): Promise<void> {
  const response = await request(http, transport, url, {
    method: "POST",
    body: data as BodyInit,
    headers: { "Content-Type": typeof data === "string" ? "text/plain;charset=UTF-8" : "application/octet-stream" },
  });
  await finish(response);
}

/**
 * Reads an answer's (empty) body to its end. Chromium cancels an answer whose body is left unread
 * past the task it arrived in, and logs it as `net::ERR_ABORTED`, though nothing failed.
 */
export async function finish(response: Response): Promise<void> {
  await response.arrayBuffer();
}

/** Whether this runs in Node (which lets WebSockets carry headers), without importing anything of Node's. */
export const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === "string";
