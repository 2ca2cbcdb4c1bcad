/**
 * The handshake's question, answered: which hub protocol a connection speaks. The client names a
 * protocol and a version; the server agrees, or refuses with the text ASP.NET Core's handshake
 * gives, which the official clients show their users.
 *
 * @module
 */
import { type HubProtocol, isProtocolError, parseHandshakeRequest, TransferFormat } from "@hubwire/protocol";

/** The protocol agreed, and the version the client asked for; or why not. */
export type ProtocolAgreement = { readonly protocol: HubProtocol; readonly version: number } | { readonly error: string };

/**
 * Reads a handshake request (its JSON text) and picks the protocol it names, if the server has
 * it at that version and the transport carries its transfer format.
 *
 * @example
 * ```ts
 * const agreed = agreeOnProtocol('{"protocol":"json","version":1}', protocols, transport.supportsBinary);
 * if ("error" in agreed) refuseHandshake(agreed.error);
 * ```
 */
export function agreeOnProtocol(text: string, protocols: ReadonlyMap<string, HubProtocol>, transportSupportsBinary: boolean): ProtocolAgreement {
  let requested: { protocol: string; version: number };
  try {
    requested = parseHandshakeRequest(text);
  } catch (error) {
    return { error: isProtocolError(error) ? error.message : "Handshake was canceled." };
  }
  const protocol = protocols.get(requested.protocol);
  if (protocol === undefined) return { error: `The protocol '${requested.protocol}' is not supported.` };
  if (requested.version > protocol.version || requested.version < 0) {
    return { error: `The server does not support version ${requested.version} of the '${requested.protocol}' protocol.` };
  }
  if (protocol.transferFormat === TransferFormat.Binary && !transportSupportsBinary) {
    return { error: `Cannot use the '${protocol.name}' protocol on the current transport. The transport does not support 'Binary' transfer format.` };
  }
  return { protocol, version: requested.version };
}
