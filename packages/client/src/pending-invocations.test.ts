import { MessageType } from "@hubwire/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConnectionClosedError, HubError, TimeoutError } from "./errors.js";
import { PendingInvocations, type SendCall } from "./pending-invocations.js";

afterEach(() => void vi.useRealTimers());

/** A send that registers `id` and succeeds, recording what it registered. */
function sendAs(id: string): SendCall {
  return async (register) => register(id);
}

describe("PendingInvocations", () => {
  it("resolves a call with its Completion's result, and rejects with HubError for its error", async () => {
    const pending = new PendingInvocations();
    const sum = pending.call<number>("add", {}, sendAs("0"));
    const failing = pending.call("fail", {}, sendAs("1"));
    await Promise.resolve();
    pending.receive({ type: MessageType.Completion, invocationId: "0", result: 3 });
    pending.receive({ type: MessageType.Completion, invocationId: "1", error: "It failed." });
    expect(await sum).toBe(3);
    await expect(failing).rejects.toThrow(HubError);
    await expect(failing).rejects.toThrow("It failed.");
  });

  it("ends a stream once: what comes for its id after the Completion is ignored", async () => {
    const pending = new PendingInvocations();
    const stream = pending.stream<string>({}, sendAs("0"), () => undefined);
    await Promise.resolve();
    pending.receive({ type: MessageType.StreamItem, invocationId: "0", item: "first" });
    pending.receive({ type: MessageType.Completion, invocationId: "0" });
    pending.receive({ type: MessageType.StreamItem, invocationId: "0", item: "late" });
    pending.receive({ type: MessageType.Completion, invocationId: "0", error: "late" });
    const items: string[] = [];
    for await (const item of stream) items.push(item);
    expect(items).toEqual(["first"]);
  });

  it("rejects with what the send rejects with", async () => {
    const pending = new PendingInvocations();
    const failure = new ConnectionClosedError("Not connected.");
    await expect(pending.call("echo", {}, async () => Promise.reject(failure))).rejects.toBe(failure);
  });

  it("times out with TimeoutError, and forgets the call", async () => {
    vi.useFakeTimers();
    const pending = new PendingInvocations();
    const call = pending.call("slow", { timeoutMs: 1_000 }, sendAs("0"));
    const outcome = expect(call).rejects.toThrow(TimeoutError);
    await vi.advanceTimersByTimeAsync(1_000);
    await outcome;
    // A late Completion finds nothing to settle.
    pending.receive({ type: MessageType.Completion, invocationId: "0", result: "late" });
  });

  it("rejects when its signal aborts, before or after the send", async () => {
    const pending = new PendingInvocations();
    const aborted = new AbortController();
    aborted.abort();
    const send = vi.fn(sendAs("0"));
    await expect(pending.call("echo", { signal: aborted.signal }, send)).rejects.toThrow("The call of 'echo' was aborted.");
    expect(send).not.toHaveBeenCalled();
    const later = new AbortController();
    const call = pending.call("echo", { signal: later.signal }, sendAs("1"));
    later.abort();
    await expect(call).rejects.toThrow("aborted");
  });

  it("rejects every waiting call with ConnectionClosedError giving the reason when the connection closes", async () => {
    const pending = new PendingInvocations();
    const first = pending.call("a", {}, sendAs("0"));
    const second = pending.call("b", {}, sendAs("1"));
    await Promise.resolve();
    pending.close(new Error("Server timeout elapsed."));
    await expect(first).rejects.toThrow(ConnectionClosedError);
    await expect(second).rejects.toThrow("The connection closed: Server timeout elapsed.");
  });

  it("hands stream items to their stream in order, then ends it with the Completion", async () => {
    const pending = new PendingInvocations();
    const stream = pending.stream<number>({}, sendAs("0"), () => undefined);
    await Promise.resolve();
    for (const item of [1, 2, 3]) pending.receive({ type: MessageType.StreamItem, invocationId: "0", item });
    pending.receive({ type: MessageType.Completion, invocationId: "0" });
    const items: number[] = [];
    for await (const item of stream) items.push(item);
    expect(items).toEqual([1, 2, 3]);
  });

  it("throws a stream's error after its items", async () => {
    const pending = new PendingInvocations();
    const stream = pending.stream<number>({}, sendAs("0"), () => undefined);
    await Promise.resolve();
    pending.receive({ type: MessageType.StreamItem, invocationId: "0", item: 1 });
    pending.receive({ type: MessageType.Completion, invocationId: "0", error: "Stream failed." });
    const items: number[] = [];
    await expect(async () => {
      for await (const item of stream) items.push(item);
    }).rejects.toThrow("Stream failed.");
    expect(items).toEqual([1]);
  });

  it("reports a stream cancelled by leaving the loop, or by its signal, once", async () => {
    const pending = new PendingInvocations();
    const cancelled = vi.fn();
    const stream = pending.stream<number>({}, sendAs("7"), cancelled);
    await Promise.resolve();
    pending.receive({ type: MessageType.StreamItem, invocationId: "7", item: 1 });
    for await (const _item of stream) break;
    stream.cancel();
    expect(cancelled).toHaveBeenCalledTimes(1);
    expect(cancelled).toHaveBeenCalledWith("7");

    const signal = new AbortController();
    const byAbort = vi.fn();
    pending.stream<number>({ signal: signal.signal }, sendAs("8"), byAbort);
    await Promise.resolve();
    signal.abort();
    expect(byAbort).toHaveBeenCalledWith("8");
  });
});
