/**
 * Sends over HTTP in order, one POST at a time, as SignalR's `TransportSendQueue` does: what is
 * sent while a POST is in flight goes out together in the next one. Two POSTs in flight at once
 * could arrive in either order (and, behind a load balancer, at different nodes).
 *
 * @module
 */

type Body = string | Uint8Array | Blob;

/**
 * A send function that queues: each call resolves once the POST that carried its data was
 * answered, and rejects with that POST's failure.
 *
 * @example
 * ```ts
 * const send = sendQueue((body) => post(http, "LongPolling", url, body));
 * await Promise.all([send("a\u001e"), send("b\u001e")]); // one POST with both
 * ```
 */
export function sendQueue(transmit: (body: Body) => Promise<void>): (data: string | Uint8Array) => Promise<void> {
  /** The batch not sent yet, which later sends join, and its POST's answer. */
  let open: Array<string | Uint8Array> | undefined;
  let sent: Promise<void>;
  let previous: Promise<unknown> = Promise.resolve();
  return (data) => {
    if (open === undefined) {
      const parts: Array<string | Uint8Array> = (open = []);
      // Starts once the POST before it was answered (or failed), with whatever joined it by then.
      sent = previous.then(() => {
        open = undefined;
        return transmit(parts.length > 1 ? (typeof parts[0] === "string" ? parts.join("") : new Blob(parts as BlobPart[])) : parts[0]!);
      });
      previous = sent.catch(() => undefined);
    }
    open.push(data);
    return sent;
  };
}
