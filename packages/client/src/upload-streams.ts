/**
 * Upload streams, client to server: the arguments of a call that are async iterables leave its
 * argument list and get stream ids of their own (numbered before the call's own id, as the
 * official client numbers them, so that both send the same frames); once the invocation is sent,
 * each is sent as StreamItem messages and ended by a Completion, with the error if iterating threw.
 *
 * @module
 * @example
 * ```ts
 * const [args, uploads] = takeUploads(["report.csv", chunks()], () => String(nextId++));
 * await send({ type: MessageType.Invocation, target: "upload", arguments: args, streamIds: uploads.map(([id]) => id) });
 * for (const [streamId, items] of uploads) void sendUpload(streamId, items, send, () => isConnected);
 * ```
 */
import { type HubMessage, MessageType } from "@hubwire/protocol";

/** An argument sent as a stream, with its stream id. */
export type Upload = [streamId: string, items: AsyncIterable<unknown>];

function isUpload(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}

/**
 * Splits a call's arguments into those sent in the invocation and those uploaded as streams, each
 * upload with an id from `nextId`.
 *
 * @example
 * ```ts
 * takeUploads([1, numbers()], () => "0"); // [[1], [["0", numbers]]]
 * ```
 */
export function takeUploads(args: readonly unknown[], nextId: () => string): [plain: unknown[], uploads: Upload[]] {
  const plain: unknown[] = [];
  const uploads: Upload[] = [];
  for (const arg of args) {
    if (isUpload(arg)) uploads.push([nextId(), arg]);
    else plain.push(arg);
  }
  return [plain, uploads];
}

/**
 * Sends one upload's items, then its Completion; stops without a word when the connection is no
 * longer connected (the server has dropped the stream with it).
 *
 * @example
 * ```ts
 * await sendUpload("0", numbers(), (message) => connection.send(message), () => connection.state === "Connected");
 * ```
 */
export async function sendUpload(
  streamId: string,
  items: AsyncIterable<unknown>,
  send: (message: HubMessage) => Promise<void>,
  isConnected: () => boolean,
): Promise<void> {
  let error: string | undefined;
  try {
    for await (const item of items) {
      if (!isConnected()) return;
      await send({ type: MessageType.StreamItem, invocationId: streamId, item });
    }
  } catch (caught) {
    error = `${caught as Error}`;
  }
  if (isConnected()) {
    await send({ type: MessageType.Completion, invocationId: streamId, error }).catch(() => undefined);
  }
}
