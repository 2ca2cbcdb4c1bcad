/**
 * Negotiate (`POST {hub}/negotiate`): picks the negotiate version, and describes a new
 * connection: its public id, its secret token and the transports it may use.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { TransferFormat, TransportName } from "@hubwire/protocol";

/** The transfer formats each transport carries, as negotiate lists them. */
export const transferFormats: Readonly<Record<TransportName, readonly TransferFormat[]>> = {
  [TransportName.WebSockets]: [TransferFormat.Text, TransferFormat.Binary],
  [TransportName.ServerSentEvents]: [TransferFormat.Text],
  [TransportName.LongPolling]: [TransferFormat.Text, TransferFormat.Binary],
};

/** 16 bytes from the CSPRNG, base64url: 22 characters, 128 bits. */
export function newConnectionId(): string {
  return randomBytes(16).toString("base64url");
}

/** Reads a query parameter by a case-insensitive name, as .NET does for negotiate. */
export function queryValue(query: URLSearchParams, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of query) if (key.toLowerCase() === lower) return value;
  return undefined;
}

/** The version to use, or SignalR's error text for the `{error}` answer. */
export function chooseNegotiateVersion(query: URLSearchParams, minimumVersion: number): { readonly version: number } | { readonly error: string } {
  const requested = queryValue(query, "negotiateVersion");
  let version = 0;
  if (requested !== undefined) {
    if (!/^-?\d+$/.test(requested.trim())) return { error: "The client requested a non-integer protocol version." };
    version = Number.parseInt(requested, 10);
  }
  if (version < minimumVersion) {
    return { error: `The client requested version '${version}', but the server does not support this version.` };
  }
  return { version: Math.min(version, 1) };
}

/** The body of a successful negotiate. */
export interface NegotiateResponse {
  readonly negotiateVersion: number;
  readonly connectionId: string;
  readonly connectionToken?: string;
  readonly availableTransports: ReadonlyArray<{ readonly transport: TransportName; readonly transferFormats: readonly TransferFormat[] }>;
  readonly useStatefulReconnect?: true;
}

/** Describes a new connection; version 0 has no token (the id plays its part). */
export function negotiateResponse(
  version: number,
  ids: { readonly connectionId: string; readonly connectionToken: string },
  transports: readonly TransportName[],
  useStatefulReconnect = false,
): NegotiateResponse {
  return {
    negotiateVersion: version,
    connectionId: ids.connectionId,
    ...(version >= 1 ? { connectionToken: ids.connectionToken } : {}),
    availableTransports: transports.map((transport) => ({ transport, transferFormats: transferFormats[transport] })),
    // Written only when true: clients that did not ask treat its presence as an error.
    ...(useStatefulReconnect ? { useStatefulReconnect: true as const } : {}),
  };
}
