/**
 * Reads the byte-level vectors out of docs/protocol.md, so that the spec and the tests can never
 * disagree: a vector is a fenced block of kind `hubwire-vector` with `message`, `json` and
 * `messagepack` lines.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface ProtocolVector {
  /** The heading above the block. */
  readonly title: string;
  /** The message, as the JSON object in the block. */
  readonly message: Record<string, unknown>;
  /** The JSON record without its trailing 0x1E. */
  readonly json: string;
  /** The MessagePack record, length prefix included. */
  readonly messagepack: Uint8Array;
}

export const protocolSpecPath = fileURLToPath(new URL("../../../docs/protocol.md", import.meta.url));

export function readProtocolVectors(path = protocolSpecPath): ProtocolVector[] {
  const text = readFileSync(path, "utf8");
  const vectors: ProtocolVector[] = [];
  const block = /^#### (.+)\n\n```hubwire-vector\n([\s\S]*?)\n```/gm;
  for (const match of text.matchAll(block)) {
    const fields = new Map<string, string>();
    for (const line of match[2]!.split("\n")) {
      const colon = line.indexOf(": ");
      if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 2));
    }
    const field = (name: string): string => {
      const value = fields.get(name);
      if (value === undefined) throw new Error(`Vector '${match[1]}' has no '${name}' line.`);
      return value;
    };
    vectors.push({
      title: match[1]!,
      message: JSON.parse(field("message")) as Record<string, unknown>,
      json: field("json"),
      messagepack: Uint8Array.from(field("messagepack").split(" "), (byte) => Number.parseInt(byte, 16)),
    });
  }
  if (vectors.length === 0) throw new Error(`No hubwire-vector blocks found in ${path}.`);
  return vectors;
}
