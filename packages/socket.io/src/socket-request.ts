/**
 * The request a socket.io client connected with, as Hubwire's authentication and `ctx.request`
 * read it: the handshake's URL, headers and address, and its bearer token from socket.io's `auth`
 * payload (`io(url, { auth: { token } })`) or, as for SignalR clients, the `Authorization` header
 * or the `access_token` query parameter.
 *
 * @module
 */
import type { HubRequest } from "@hubwire/server";
import type { Socket } from "socket.io";

/** The handshake of a socket.io client as a {@link HubRequest}. */
export function hubRequestOf(socket: Socket): HubRequest {
  const handshake = socket.handshake;
  return {
    method: "GET",
    url: handshake.url,
    headers: handshake.headers,
    httpVersion: socket.request.httpVersion ?? "1.1",
    remoteAddress: handshake.address,
    native: socket.request,
  };
}

/** The token in socket.io's `auth` payload, if it carries one as `token` (a string). */
export function tokenOf(socket: Socket): string | undefined {
  const auth: unknown = socket.handshake.auth;
  if (typeof auth !== "object" || auth === null) return undefined;
  const token = (auth as { token?: unknown }).token;
  return typeof token === "string" && token !== "" ? token : undefined;
}
