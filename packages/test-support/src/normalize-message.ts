/**
 * Brings a hub message from any codec to one comparable shape. The official codecs add fields our
 * messages leave out (`headers: {}`, `streamIds: []`, `error: undefined`, `error: null`), and ours read headers
 * into prototype-less objects; none of that is a difference on the wire.
 */
export function normalizeMessage(message: unknown): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message as Record<string, unknown>)) {
    if (value === undefined) continue;
    // The official MessagePack reader returns a Close's nil error as null; it means "no error".
    if (key === "error" && value === null) continue;
    if (key === "headers" && typeof value === "object" && value !== null) {
      if (Object.keys(value).length === 0) continue;
      result[key] = { ...value };
      continue;
    }
    if (key === "streamIds" && Array.isArray(value) && value.length === 0) continue;
    result[key] = value;
  }
  return result;
}
