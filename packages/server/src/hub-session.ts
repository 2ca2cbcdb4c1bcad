/**
 * What a hub keeps per connection: its call context, its invocation queue, the streams it sends
 * and the uploads it reads, and why its reading is paused.
 *
 * @module
 */
import type { CallContextShared } from "./call-context.js";
import { CallContext } from "./call-context.js";
import type { HubConnectionContext } from "./hub-connection-context.js";
import { InvocationQueue, type QueueOwner, type QueueTask } from "./invocation-queue.js";
import { UploadStream } from "./upload-stream.js";

/** What every session of one hub shares. */
export interface SessionShared {
  readonly context: CallContextShared;
  readonly maxParallelInvocations: number;
  readonly maxUploadStreams: number;
  readonly streamBufferCapacity: number;
  readonly countInvocations: (delta: number) => void;
}

/**
 * A connection's session. Its call context, invocation queue and maps are made on first use: an
 * idle connection (the common case, by far) may never call, stream, upload or pause, and one
 * process holds tens of thousands of them.
 *
 * @example
 * ```ts
 * const session = new HubSession(connection, shared);
 * session.invoke(() => runCall(session, message));
 * session.start(); // onConnected has finished: calls run from now on
 * ```
 */
export class HubSession implements QueueOwner {
  readonly #shared: SessionShared;
  /** Made on the first invocation; until then `start` and `close` are only remembered. */
  #queue: InvocationQueue | undefined;
  #started = false;
  #closed = false;
  #context: CallContext | undefined;
  #streams: Map<string, AbortController> | undefined;
  #uploads: Map<string, UploadStream> | undefined;
  #pauseReasons: Set<unknown> | undefined;

  constructor(
    readonly connection: HubConnectionContext,
    shared: SessionShared,
  ) {
    this.#shared = shared;
  }

  /** Lets invocations run: `onConnected` has finished. */
  start(): void {
    this.#started = true;
    this.#queue?.start();
  }

  /** Queues an invocation (in arrival order, at most the parallel limit at once). */
  invoke(task: QueueTask): void {
    if (this.#closed) return;
    if (this.#queue === undefined) {
      this.#queue = new InvocationQueue(this.#shared.maxParallelInvocations, this, this.#shared.countInvocations);
      if (this.#started) this.#queue.start();
    }
    this.#queue.push(task);
  }

  /** Resolves once the calls queued so far have run and answered (at once when there are none). */
  whenCallsAnswered(): Promise<void> {
    return this.#queue?.whenIdle() ?? Promise.resolve();
  }

  /**
   * The connection is gone: drops invocations that have not started, cancels its streams and ends
   * its uploads (reading the maps only if they were ever made).
   */
  close(): void {
    this.#closed = true;
    this.#queue?.close();
    for (const stream of this.#streams?.values() ?? []) stream.abort(new Error("The connection closed."));
    for (const upload of this.#uploads?.values() ?? []) upload.complete("The connection closed.");
    this.#uploads?.clear();
  }

  /** The connection's call context, made when a hook or a call first needs it. */
  get context(): CallContext {
    return (this.#context ??= new CallContext(this.connection, this.#shared.context));
  }

  queuePaused(paused: boolean): void {
    this.#setPaused("queue", paused);
  }

  /** Server-to-client streams in progress, by invocation id, to cancel them. */
  get streams(): Map<string, AbortController> {
    return (this.#streams ??= new Map());
  }

  /** The open upload with this stream id. */
  upload(streamId: string): UploadStream | undefined {
    return this.#uploads?.get(streamId);
  }

  /** Forgets an upload the client has ended. */
  forgetUpload(streamId: string): void {
    this.#uploads?.delete(streamId);
  }

  /**
   * Opens the uploads a call names, now rather than when the call runs: their items may arrive
   * while an earlier call still runs. A reason (and nothing opened) when it may not.
   */
  openUploads(streamIds: readonly string[]): readonly UploadStream[] | string {
    if (streamIds.length === 0) return noUploads;
    const uploads = (this.#uploads ??= new Map());
    if (new Set(streamIds).size !== streamIds.length || streamIds.some((id) => uploads.has(id))) return "A stream id is already in use.";
    if (uploads.size + streamIds.length > this.#shared.maxUploadStreams) {
      return `More than ${this.#shared.maxUploadStreams} upload streams at once.`;
    }
    return streamIds.map((id) => {
      const upload: UploadStream = new UploadStream(this.#shared.streamBufferCapacity, (full) => this.#setPaused(upload, full));
      uploads.set(id, upload);
      return upload;
    });
  }

  /** Forgets a call's uploads once it no longer reads them. */
  closeUploads(streamIds: readonly string[], uploads: readonly UploadStream[]): void {
    for (const [index, id] of streamIds.entries()) {
      if (this.#uploads?.get(id) === uploads[index]) this.#uploads?.delete(id);
      uploads[index]?.discard();
    }
  }

  /** Pauses the connection's reading while any reason holds, resumes when none does. */
  #setPaused(reason: unknown, paused: boolean): void {
    const reasons = (this.#pauseReasons ??= new Set());
    const before = reasons.size;
    if (paused) reasons.add(reason);
    else reasons.delete(reason);
    if (before === 0 && reasons.size > 0) this.connection.transport?.pause();
    else if (before > 0 && reasons.size === 0) this.connection.transport?.resume();
  }
}

/** No uploads: one frozen array for every call without them. */
export const noUploads: readonly UploadStream[] = Object.freeze([]);
