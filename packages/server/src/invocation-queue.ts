/**
 * Runs a connection's invocations at most `limit` at a time, in arrival order (SignalR's
 * `MaximumParallelInvocationsPerClient`). Past a backlog it asks the transport to stop reading,
 * so a client that floods calls is slowed down instead of growing the server's memory.
 *
 * @module
 */

/** Tasks queued before the connection is paused; it resumes at half of this. */
export const INVOCATION_BACKLOG_LIMIT = 32;

/** A queued task: a promise while it runs on, nothing once it finished in the turn it started. */
export type QueueTask = () => Promise<unknown> | undefined;

/** Who a queue asks to stop and resume reading (a connection's dispatcher session). */
export interface QueueOwner {
  queuePaused(paused: boolean): void;
}

export class InvocationQueue {
  readonly #limit: number;
  readonly #owner: QueueOwner;
  readonly #waiting: QueueTask[] = [];
  #running = 0;
  #started = false;
  #paused = false;
  #closed = false;
  /** Who waits for the queue to empty; made by the first `whenIdle` that has to wait. */
  #idleWaiters: Array<() => void> | undefined;

  readonly #onCountChange: (delta: number) => void;

  /** `onCountChange` hears every change in how many tasks are queued or running (for draining). */
  constructor(limit: number, owner: QueueOwner, onCountChange: (delta: number) => void = () => undefined) {
    this.#limit = limit;
    this.#owner = owner;
    this.#onCountChange = onCountChange;
  }

  /** Resolves once no task is waiting or running (at once if none is, or the queue is closed). */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => (this.#idleWaiters ??= []).push(resolve));
  }

  #isIdle(): boolean {
    return this.#closed || (this.#running === 0 && this.#waiting.length === 0);
  }

  #wakeIdleWaiters(): void {
    if (this.#idleWaiters === undefined || !this.#isIdle()) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /** Tasks waiting to run (not those running). */
  get backlog(): number {
    return this.#waiting.length;
  }

  /** Lets queued tasks run: called once `onConnected` has finished. */
  start(): void {
    this.#started = true;
    this.#pump();
  }

  /**
   * Queues a task: it returns a promise while it runs on, or nothing when it finished in its own
   * turn (no promise to wait for). Its errors are the task's own to handle: a throw or a rejection
   * is ignored here.
   */
  push(task: QueueTask): void {
    if (this.#closed) return;
    this.#onCountChange(1);
    if (this.#started && this.#running < this.#limit && this.#waiting.length === 0) {
      // The usual case, a place free and no one ahead: it runs at once, never queued.
      if (this.#run(task)) this.#wakeIdleWaiters();
      return;
    }
    this.#waiting.push(task);
    if (!this.#paused && this.#waiting.length >= INVOCATION_BACKLOG_LIMIT) {
      this.#paused = true;
      this.#owner.queuePaused(true);
    }
    this.#pump();
  }

  /** Drops what has not started; running tasks finish on their own. */
  close(): void {
    this.#closed = true;
    if (this.#waiting.length > 0) this.#onCountChange(-this.#waiting.length);
    this.#waiting.length = 0;
    this.#wakeIdleWaiters();
  }

  #done(): void {
    this.#running--;
    this.#onCountChange(-1);
    this.#pump();
    this.#wakeIdleWaiters();
  }

  #pump(): void {
    let finishedNow = false;
    while (this.#started && !this.#closed && this.#running < this.#limit && this.#waiting.length > 0) {
      finishedNow = this.#run(this.#waiting.shift()!) || finishedNow;
    }
    if (finishedNow) this.#wakeIdleWaiters();
    if (this.#paused && this.#waiting.length <= INVOCATION_BACKLOG_LIMIT / 2) {
      this.#paused = false;
      this.#owner.queuePaused(false);
    }
  }

  /** Starts a task; true when it finished in this turn (its place is free again at once, without a promise's turn). */
  #run(task: QueueTask): boolean {
    this.#running++;
    let pending: Promise<unknown> | undefined;
    try {
      pending = task();
    } catch {
      pending = undefined;
    }
    if (pending === undefined) {
      this.#running--;
      this.#onCountChange(-1);
      return true;
    }
    const done = () => this.#done();
    pending.then(done, done);
    return false;
  }
}
