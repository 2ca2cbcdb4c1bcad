/**
 * Stateful reconnect over long polling and Server-Sent Events, which .NET does not resume and
 * `@hubwire/client` does: raw requests, so that each step of the re-attach is visible. The client
 * numbers its re-attaches: every request of one names its link (`link=N`, none for the first).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./test-helpers/official-client.js";
import { negotiate, openWebSocket } from "./test-helpers/raw-client.js";
import { testHub } from "./test-helpers/test-hub.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

const RS = "\u001e";

interface Record {
  readonly type: number;
  readonly invocationId?: string;
  readonly result?: unknown;
  readonly sequenceId?: number;
}

const records = (text: string): Record[] =>
  text
    .split(RS)
    .filter((record) => record !== "" && record !== "{}")
    .map((record) => JSON.parse(record) as Record);

/** A stateful connection negotiated for raw requests. */
async function negotiated(server: RunningServer): Promise<string> {
  const { body } = await negotiate(server.origin, "/hub", "negotiateVersion=1&useStatefulReconnect=true");
  return body.connectionToken!;
}

/** `id` (and `link`, once re-attached) as the requests' query says them. */
const onLink = (token: string, link: number) => (link === 0 ? token : `${token}&link=${link}`);

const post = (server: RunningServer, token: string, body: string, link = 0) =>
  fetch(`${server.origin}/hub?id=${onLink(token, link)}`, { method: "POST", body });

/** Polls until `done` holds for everything received, and returns it. */
async function pollUntil(server: RunningServer, token: string, done: (received: Record[]) => boolean, link = 0): Promise<Record[]> {
  let text = "";
  while (!done(records(text))) {
    const response = await fetch(`${server.origin}/hub?id=${onLink(token, link)}`);
    expect(response.status).toBe(200);
    text += await response.text();
  }
  return records(text);
}

/** An event stream read into `text`; `close` drops it as a network would. */
async function openEvents(server: RunningServer, token: string, link = 0): Promise<{ status: number; text: () => string; close: () => void }> {
  const abort = new AbortController();
  const response = await fetch(`${server.origin}/hub?id=${onLink(token, link)}`, { headers: { Accept: "text/event-stream" }, signal: abort.signal });
  let text = "";
  if (response.status === 200) {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    })();
  } else {
    text = await response.text();
  }
  return {
    status: response.status,
    text: () =>
      text
        .split(/\r\n/)
        .filter((line) => line.startsWith("data: "))
        .map((line) => line.slice(6))
        .join(""),
    close: () => abort.abort(),
  };
}

describe("stateful reconnect over long polling and Server-Sent Events", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({
      hubs: { "/hub": testHub },
      hubOptions: { allowStatefulReconnect: true, statefulReconnectWindowMs: 1_000, disconnectTimeoutMs: 300 },
    });
  });
  afterAll(() => server.close());

  it("long polling: a poll on a new link is answered at once, then Sequence and the replay of what was not acknowledged; the old link is refused", async () => {
    const token = await negotiated(server);
    await (await fetch(`${server.origin}/hub?id=${token}`)).text();
    await post(server, token, `{"protocol":"json","version":2}${RS}`);
    await post(
      server,
      token,
      `{"type":1,"invocationId":"1","target":"echo","arguments":["a"]}${RS}{"type":1,"invocationId":"2","target":"echo","arguments":["b"]}${RS}`,
    );
    await pollUntil(server, token, (received) => received.some((record) => record.invocationId === "2"));
    // The client acknowledges the first completion; the answer that carried the second is "lost".
    await post(server, token, `{"type":8,"sequenceId":1}${RS}`);
    const reattach = await fetch(`${server.origin}/hub?id=${token}&link=1`);
    expect([reattach.status, await reattach.text()]).toEqual([200, ""]);
    // A POST of the old link arriving late (through a slow proxy) is refused, not counted as new.
    const late = await post(server, token, `{"type":1,"invocationId":"9","target":"echo","arguments":["late"]}${RS}`);
    expect([late.status, await late.text()]).toEqual([409, "This request was sent on a link of the connection that a re-attach has replaced."]);
    const replay = await pollUntil(server, token, (received) => received.some((record) => record.invocationId === "2"), 1);
    expect(replay.slice(0, 2)).toEqual([
      { type: 9, sequenceId: 2 },
      { type: 3, invocationId: "2", result: "b" },
    ]);
    // The client's Sequence and replay: invocation 2 again (a duplicate, dropped), then a new 3.
    await post(
      server,
      token,
      `{"type":9,"sequenceId":2}${RS}{"type":1,"invocationId":"2","target":"echo","arguments":["b"]}${RS}{"type":1,"invocationId":"3","target":"echo","arguments":["c"]}${RS}`,
      1,
    );
    const after = await pollUntil(server, token, (received) => received.some((record) => record.invocationId === "3"), 1);
    expect(after.filter((record) => record.type === 3)).toEqual([{ type: 3, invocationId: "3", result: "c" }]);
    await fetch(`${server.origin}/hub?id=${token}&link=1`, { method: "DELETE" });
  });

  it("long polling: DELETE ends a stateful connection as any other, one awaiting its re-attach too (202; nothing re-attaches after it)", async () => {
    const connected = await negotiated(server);
    await (await fetch(`${server.origin}/hub?id=${connected}`)).text();
    await post(server, connected, `{"protocol":"json","version":2}${RS}`);
    expect(await (await fetch(`${server.origin}/hub?id=${connected}`)).text()).toBe(`{}${RS}`);
    expect((await fetch(`${server.origin}/hub?id=${connected}`, { method: "DELETE" })).status).toBe(202);
    const afterDelete = await fetch(`${server.origin}/hub?id=${connected}&link=1`);
    // 204: the connection is over (its poll drains the end).
    expect([afterDelete.status, await afterDelete.text()]).toEqual([204, ""]);

    const awaiting = await negotiated(server);
    await (await fetch(`${server.origin}/hub?id=${awaiting}`)).text();
    await post(server, awaiting, `{"protocol":"json","version":2}${RS}`);
    expect(await (await fetch(`${server.origin}/hub?id=${awaiting}`)).text()).toBe(`{}${RS}`);
    // No poll past the disconnect timeout (300 ms): it awaits its re-attach.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await fetch(`${server.origin}/hub?id=${awaiting}&link=1`, { method: "DELETE" })).status).toBe(202);
    const afterWait = await fetch(`${server.origin}/hub?id=${awaiting}&link=1`);
    expect([afterWait.status, await afterWait.text()]).toEqual([404, "No Connection with that ID"]);
  });

  it("long polling: a client that stops polling past the disconnect timeout may still re-attach within the window; after it, 404", async () => {
    const token = await negotiated(server);
    await (await fetch(`${server.origin}/hub?id=${token}`)).text();
    await post(server, token, `{"protocol":"json","version":2}${RS}`);
    await pollUntil(server, token, () => true);
    await post(server, token, `{"type":1,"invocationId":"1","target":"echo","arguments":["kept"]}${RS}`);
    // No poll for longer than the disconnect timeout (300 ms), within the window (1 s).
    await new Promise((resolve) => setTimeout(resolve, 600));
    // A poll of the link that dropped does not re-attach (its client would not send its Sequence).
    const plain = await fetch(`${server.origin}/hub?id=${token}`);
    expect([plain.status, await plain.text()]).toEqual([409, "The connection lost its transport: re-attach it on a new link."]);
    expect((await fetch(`${server.origin}/hub?id=${token}&link=1`)).status).toBe(200);
    const replay = await pollUntil(server, token, (received) => received.some((record) => record.invocationId === "1"), 1);
    expect(replay[0]).toEqual({ type: 9, sequenceId: 1 });
    // Gone quiet again, past the disconnect timeout and the window this time.
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    expect((await fetch(`${server.origin}/hub?id=${token}&link=2`)).status).toBe(404);
  });

  it("Server-Sent Events: a new event stream resumes a dropped one, with Sequence and the replay", async () => {
    const token = await negotiated(server);
    const first = await openEvents(server, token);
    await post(server, token, `{"protocol":"json","version":2}${RS}`);
    await post(server, token, `{"type":1,"invocationId":"1","target":"echo","arguments":["a"]}${RS}`);
    await eventually(() => first.text().includes('"invocationId":"1"'));
    first.close();
    // The new stream is on a new link; one on the old link would be refused.
    const second = await openEvents(server, token, 1);
    expect(second.status).toBe(200);
    await eventually(() => second.text().includes('"invocationId":"1"'));
    expect(records(second.text()).slice(0, 2)).toEqual([
      { type: 9, sequenceId: 1 },
      { type: 3, invocationId: "1", result: "a" },
    ]);
    await post(server, token, `{"type":9,"sequenceId":2}${RS}{"type":1,"invocationId":"2","target":"echo","arguments":["b"]}${RS}`, 1);
    await eventually(() => second.text().includes('"invocationId":"2"'));
    second.close();
  });

  it("refuses a re-attach over another transport (400) and one by another user (403)", async () => {
    const guarded = await startServer({
      hubs: { "/hub": testHub },
      authenticate: ({ accessToken }) => (accessToken === undefined ? undefined : { userId: accessToken }),
      hubOptions: { allowStatefulReconnect: true },
    });
    try {
      const as = (user: string, init: RequestInit = {}) => ({ ...init, headers: { ...(init.headers as object), Authorization: `Bearer ${user}` } });
      const { body } = await negotiate(guarded.origin, "/hub", "negotiateVersion=1&useStatefulReconnect=true", as("ada"));
      const url = `${guarded.origin}/hub?id=${body.connectionToken!}`;
      await (await fetch(url, as("ada"))).text();
      await fetch(url, as("ada", { method: "POST", body: `{"protocol":"json","version":2}${RS}` }));
      expect(await (await fetch(url, as("ada"))).text()).toBe(`{}${RS}`);
      const otherUser = await fetch(`${url}&link=1`, as("bob"));
      expect([otherUser.status, await otherUser.text()]).toEqual([403, "The connection belongs to another user."]);
      const events = await fetch(url, as("ada", { headers: { Accept: "text/event-stream" } }));
      expect([events.status, await events.text()]).toEqual([400, "Cannot change transports mid-connection"]);
      const webSocket = await openWebSocket(url.replace(/^http/, "ws"), { Authorization: "Bearer ada" });
      expect([webSocket.status, webSocket.body]).toEqual([400, "Cannot change transports mid-connection"]);
      // The connection is still the first client's.
      const reattached = await fetch(`${url}&link=1`, as("ada"));
      expect(reattached.status).toBe(200);
      await fetch(`${url}&link=1`, as("ada", { method: "DELETE" }));
    } finally {
      await guarded.close();
    }
  });
});
