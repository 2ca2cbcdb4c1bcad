/**
 * The chat sample's start-up line: where it runs, and whether its rooms are its own or shared over
 * Redis (with the node's id). A server prints it once `chatSetup` has resolved, which over Redis
 * means Redis has answered.
 *
 * @module
 */
import type { NodeStatus } from "./contract.js";

/**
 * @example
 * ```ts
 * console.log(chatBanner("http://127.0.0.1:3000/", setup.node.status));
 * // Hubwire chat is running at http://localhost:3000/ (node myhost_1f2e…, shared over Redis).
 * ```
 */
export function chatBanner(url: string, status: NodeStatus, runtime?: string): string {
  const where = `${runtime === undefined ? "" : ` on ${runtime}`} at ${url.replace("127.0.0.1", "localhost")}`;
  const rooms = status.rooms === "memory" ? "in memory" : `node ${status.nodeId}, shared over Redis`;
  return `Hubwire chat is running${where} (${rooms}).`;
}
