// The invocation queue alone: tasks are promises the test settles, no connection, no sockets.
import { describe, expect, it } from "vitest";
import { INVOCATION_BACKLOG_LIMIT, InvocationQueue } from "./invocation-queue.js";

/** A task that runs when the queue starts it and ends when the test says so. */
function controlledTask(log: string[], name: string) {
  let finish!: () => void;
  const task = () => {
    log.push(`start ${name}`);
    return new Promise<void>((resolve) => (finish = resolve)).then(() => void log.push(`end ${name}`));
  };
  return { task, finish: () => finish() };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("the invocation queue", () => {
  it("runs nothing before start, then at most `limit` at a time, in arrival order", async () => {
    const log: string[] = [];
    const queue = new InvocationQueue(2, { queuePaused: () => {} });
    const tasks = ["a", "b", "c"].map((name) => controlledTask(log, name));
    for (const { task } of tasks) queue.push(task);
    await settle();
    expect(log).toEqual([]);
    queue.start();
    await settle();
    expect(log).toEqual(["start a", "start b"]);
    tasks[1]!.finish();
    await settle();
    expect(log).toEqual(["start a", "start b", "end b", "start c"]);
  });

  it("asks its owner to stop reading at the backlog limit, and to read again at half of it", async () => {
    const paused: boolean[] = [];
    const queue = new InvocationQueue(1, { queuePaused: (value) => paused.push(value) });
    queue.start();
    const log: string[] = [];
    const tasks = Array.from({ length: INVOCATION_BACKLOG_LIMIT + 1 }, (_, index) => controlledTask(log, String(index)));
    for (const { task } of tasks) queue.push(task);
    // One runs; the rest wait, which reaches the limit.
    expect(queue.backlog).toBe(INVOCATION_BACKLOG_LIMIT);
    expect(paused).toEqual([true]);
    for (let index = 0; queue.backlog > INVOCATION_BACKLOG_LIMIT / 2; index++) {
      tasks[index]!.finish();
      await settle();
    }
    expect(paused).toEqual([true, false]);
  });

  it("counts what is queued or running, and settles whenIdle once all is done", async () => {
    let count = 0;
    const queue = new InvocationQueue(1, { queuePaused: () => {} }, (delta) => (count += delta));
    const log: string[] = [];
    const first = controlledTask(log, "a");
    queue.push(first.task);
    queue.push(() => Promise.reject(new Error("a task's own failure")));
    queue.start();
    expect(count).toBe(2);
    let idle = false;
    void queue.whenIdle().then(() => (idle = true));
    await settle();
    expect(idle).toBe(false);
    first.finish();
    await settle();
    expect(count).toBe(0);
    expect(idle).toBe(true);
  });

  it("drops what has not started when closed, and takes nothing after", async () => {
    let count = 0;
    const queue = new InvocationQueue(1, { queuePaused: () => {} }, (delta) => (count += delta));
    const log: string[] = [];
    const running = controlledTask(log, "a");
    queue.push(running.task);
    queue.push(controlledTask(log, "b").task);
    queue.start();
    queue.close();
    queue.push(controlledTask(log, "c").task);
    expect(count).toBe(1);
    await expect(queue.whenIdle()).resolves.toBeUndefined();
    running.finish();
    await settle();
    expect(log).toEqual(["start a", "end a"]);
    expect(count).toBe(0);
  });

  it("frees the place of a task that finished in its own turn at once: the next starts in the same turn", async () => {
    let count = 0;
    const queue = new InvocationQueue(1, { queuePaused: () => {} }, (delta) => (count += delta));
    const log: string[] = [];
    const now = (name: string) => () => void log.push(name);
    queue.push(now("a"));
    queue.push(now("b"));
    const later = controlledTask(log, "c");
    queue.push(later.task);
    queue.push(now("d"));
    queue.start();
    // a and b end as they start; c waits, and holds d behind it.
    expect(log).toEqual(["a", "b", "start c"]);
    expect(count).toBe(2);
    later.finish();
    await settle();
    expect(log).toEqual(["a", "b", "start c", "end c", "d"]);
    expect(count).toBe(0);
    await expect(queue.whenIdle()).resolves.toBeUndefined();
    // Started queue, nothing running: a task that ends in its turn runs inside push.
    queue.push(now("e"));
    expect(log.at(-1)).toBe("e");
    expect(count).toBe(0);
  });

  it("goes on past a task that throws as it starts", () => {
    const queue = new InvocationQueue(1, { queuePaused: () => {} });
    const log: string[] = [];
    queue.start();
    queue.push(() => {
      throw new Error("its own to handle");
    });
    queue.push(() => void log.push("next"));
    expect(log).toEqual(["next"]);
  });
});
