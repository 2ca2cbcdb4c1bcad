/**
 * A stateful connection outlives its node (#20): two Hubwire node processes over Redis with
 * durable delivery and `keepConnections`. The official client (`withStatefulReconnect`, JSON and
 * MessagePack) reaches node A through a proxy; node A is killed (SIGKILL) mid-traffic and the
 * proxy moves the client's re-attach to node B, which takes the connection over from Redis.
 *
 * Numbered both ways, without a pause: a sender on B sends the client's group one number after
 * another (server to client: each must arrive once, in order, including those sent while no node
 * held the connection); the client calls a method that sends its number to an audit group one
 * call after another (client to server: each call answered ok ran exactly once; a call in flight
 * when A died is answered with an error that says so, and ran at most once). The client must keep
 * its connection id and its group, and never see `onreconnecting`. Figures go to the run's summary.
 */

import { HubConnection as OurHubConnection } from "@hubwire/client";
import { statefulReconnect } from "@hubwire/client/stateful-reconnect";
import { startTcpProxy } from "@hubwire/test-support";
import { HttpTransportType, type HubConnection, HubConnectionBuilder, type IHubProtocol, LogLevel } from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { HubNode } from "./harness/hub-node.js";
import { eventually, RawHubSocket } from "./harness/raw.js";
import { tally } from "./harness/scoreboard.js";

/** The text a node that resumes a connection answers a call its dead holder never answered with (server error-texts.ts). */
const lostWithNode = "The server that ran this call stopped before it answered";
const backplaneOptions = { delivery: "durable", keepConnections: true, heartbeatIntervalMs: 250, publishTimeoutMs: 1_000 };
// Two calls at once: one that sleeps through the crash, and the numbered ones.
const hubOptions = { allowStatefulReconnect: true, maxParallelInvocationsPerClient: 2 };
/** Numbers each way before the crash, and after it. */
const before = 150;
const after = 150;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function client(url: string, protocol?: IHubProtocol, stateful = false): Promise<HubConnection> {
  let builder = new HubConnectionBuilder().withUrl(url, { transport: HttpTransportType.WebSockets }).configureLogging(LogLevel.None);
  if (stateful) builder = builder.withStatefulReconnect();
  if (protocol !== undefined) builder = builder.withHubProtocol(protocol);
  const connection = builder.build();
  await connection.start();
  cleanups.push(() => connection.stop());
  return connection;
}

/** What the resuming client logged (ours), for a failure's message. */
const clientLog: string[] = [];

/** The client whose node dies, as the test drives it: the official one or ours. */
interface Resumer {
  invoke<T>(method: string, ...args: unknown[]): Promise<T>;
  on(method: string, handler: (n: number) => void): void;
  onReconnecting(handler: () => void): void;
}

/** Our client over an HTTP transport, with stateful reconnect. */
async function ourClient(url: string, transport: "LongPolling" | "ServerSentEvents"): Promise<Resumer> {
  const note =
    (level: string) =>
    (message: string, ...details: unknown[]) =>
      void clientLog.push(`${level} ${message} ${details.map(String).join(" ")}`);
  const logger = { debug: note("debug"), warn: note("warn") };
  const connection = new OurHubConnection(url, { transports: [transport], statefulReconnect: statefulReconnect(), reconnect: [0, 100], logger });
  await connection.start();
  cleanups.push(() => connection.stop());
  // Untyped calls: no contract here.
  return {
    invoke: connection.invoke.bind(connection) as unknown as Resumer["invoke"],
    on: connection.on.bind(connection) as unknown as Resumer["on"],
    onReconnecting: (handler) => void connection.onReconnecting(handler),
  };
}

/** The official client over WebSockets, with stateful reconnect. */
async function officialClient(url: string, protocol: IHubProtocol | undefined): Promise<Resumer> {
  const connection = await client(url, protocol, true);
  return {
    invoke: (method, ...args) => connection.invoke(method, ...args),
    on: (method, handler) => connection.on(method, handler),
    onReconnecting: (handler) => connection.onreconnecting(handler),
  };
}

describe("a stateful connection whose node dies resumes on another node", () => {
  // The sender on the node that takes over (its own sends are caught up from the stream), or on a third node (the others').
  for (const [name, start, senderNode] of [
    ["the official client over WebSockets (JSON)", (url: string) => officialClient(url, undefined), "b"],
    ["the official client over WebSockets (MessagePack)", (url: string) => officialClient(url, new MessagePackHubProtocol()), "c"],
    ["@hubwire/client over LongPolling", (url: string) => ourClient(url, "LongPolling"), "c"],
    ["@hubwire/client over ServerSentEvents", (url: string) => ourClient(url, "ServerSentEvents"), "b"],
  ] as const) {
    it(`${name}, sender on ${senderNode}: same id and group, every message once and in order, no onreconnecting`, async () => {
      const prefix = `resume-${Math.random()}`;
      const nodes = await Promise.all(
        ["a", "b", ...(senderNode === "c" ? ["c"] : [])].map((nodeName) =>
          HubNode.start({ name: nodeName, redisPort: 6379, prefix, backplaneOptions, hubOptions }),
        ),
      );
      const [a, b] = nodes as [HubNode, HubNode];
      cleanups.push(() => Promise.all(nodes.map((node) => node.stop())));
      const proxy = await startTcpProxy(a.port);
      cleanups.push(() => proxy.close());

      const observer = await client(b.url);
      const audited: number[] = [];
      observer.on("message", (n: number) => void audited.push(n));
      await observer.invoke("join", "audit");
      const sender = await client((nodes[2] ?? b).url);

      const resumer = await start(`http://127.0.0.1:${proxy.port}/hub`);
      let reconnecting = 0;
      resumer.onReconnecting(() => void reconnecting++);
      const inbox: number[] = [];
      resumer.on("message", (n: number) => void inbox.push(n));
      await resumer.invoke("join", "room");
      const id = await resumer.invoke<string>("whoAmI");
      expect(await resumer.invoke("node")).toBe("a");

      // Server to client: one number after another, on B, through the crash.
      let sent = 0;
      let sending = true;
      const sends = (async () => {
        while (sending) await sender.invoke("toGroup", "room", sent++);
      })();
      // A failed test stops the clients under these loops: that is not a second failure.
      sends.catch(() => undefined);
      // Client to server: one call after another, through the crash.
      const calls: Array<"ok" | "lost with node" | string> = [];
      /** When each call ended (to time the resume). */
      const endedAt: number[] = [];
      let calling = true;
      const calling$ = (async () => {
        for (let n = 0; calling; n++) {
          try {
            await resumer.invoke("toGroup", "audit", n);
            calls.push("ok");
            endedAt.push(Date.now());
          } catch (error) {
            const lost = String((error as Error).message).includes(lostWithNode);
            calls.push(lost ? "lost with node" : String(error));
            endedAt.push(Date.now());
            // Any other failure ends the test (a closed connection would fail every call at once).
            if (!lost) break;
          }
        }
      })();
      await eventually(() => calls.length >= before && sent >= before, "traffic before the crash", 20_000);
      // A call that A never answers: the node that resumes the connection answers it with an error.
      const sleeping = resumer.invoke("sleep", 60_000).then(
        () => "answered",
        (error: Error) => error.message,
      );
      const sleepSent = calls.length;
      await eventually(() => calls.length >= sleepSent + 10, "calls after the sleeping one (which A stored as open first)", 10_000);
      proxy.retarget(b.port);
      a.kill("SIGKILL");
      const crashedAt = { calls: calls.length, sent, at: Date.now() };
      await eventually(() => calls.length >= crashedAt.calls + after && sent >= crashedAt.sent + after, "traffic after the crash", 30_000).catch((error) => {
        // What node b said of the connection (or of none in particular), its method calls left out.
        const said = b.logs
          .filter((line) => line.message !== "Invoking a hub method." && [undefined, id].includes(line.fields?.["connectionId"] as string | undefined))
          .slice(-40);
        throw new Error(
          `${error}; calls ${calls.length} (at the crash ${crashedAt.calls}), failed otherwise: ${JSON.stringify(calls.filter((call) => call !== "ok" && call !== "lost with node"))}; ` +
            `sent ${sent} (at the crash ${crashedAt.sent}), received ${inbox.length}; onreconnecting: ${reconnecting}; node b said: ${JSON.stringify(said)}; ` +
            `the client logged: ${JSON.stringify(clientLog.slice(-30))}`,
        );
      });
      sending = false;
      calling = false;
      await Promise.all([sends, calling$]);
      await eventually(() => inbox.length >= sent && audited.length >= calls.filter((call) => call === "ok").length, "the last messages", 10_000);

      // The first call that began after the crash ended once the connection was resumed on B.
      tally({ kind: "timing", case: `node SIGKILL, resumed on another node, ${name}`, what: "recovery", value: endedAt[crashedAt.calls + 1]! - crashedAt.at });
      const received = new Set(inbox);
      const auditedOnce = new Set(audited);
      const outcome = {
        toClient: { sent, lost: sent - received.size, duplicated: inbox.length - received.size },
        toServer: {
          sent: calls.length,
          duplicated: audited.length - auditedOnce.size,
          // Answered ok and never run.
          lost: calls.filter((call, n) => call === "ok" && !auditedOnce.has(n)).length,
        },
      };
      tally({ kind: "delivery", case: `node SIGKILL, resumed on another node, ${name}, server to client`, ...outcome.toClient });
      tally({ kind: "delivery", case: `node SIGKILL, resumed on another node, ${name}, client to server`, ...outcome.toServer });
      expect(calls.filter((call) => call !== "ok" && call !== "lost with node")).toEqual([]);
      expect(inbox).toEqual(Array.from({ length: sent }, (_, n) => n));
      expect(outcome.toServer).toMatchObject({ duplicated: 0, lost: 0 });
      expect(calls.filter((call) => call === "lost with node").length).toBeLessThanOrEqual(1);
      expect(reconnecting).toBe(0);
      const unanswered = new Promise<string>((resolve) => setTimeout(() => resolve("no answer within 10 s"), 10_000));
      expect(await Promise.race([sleeping, unanswered])).toContain(lostWithNode);
      expect(await resumer.invoke("whoAmI")).toBe(id);
      expect(await resumer.invoke("node")).toBe("b");
      expect(b.logs.some((line) => line.message === "Took over a connection whose node died; its client re-attaches here.")).toBe(true);
    }, 90_000);
  }

  it("refuses a re-attach with another user's token once the connection is taken over (403), and resumes its owner's", async () => {
    const prefix = `resume-${Math.random()}`;
    const nodes = await Promise.all(["a", "b"].map((nodeName) => HubNode.start({ name: nodeName, redisPort: 6379, prefix, backplaneOptions, hubOptions })));
    const [a, b] = nodes as [HubNode, HubNode];
    cleanups.push(() => Promise.all(nodes.map((node) => node.stop())));
    const as = (user: string) => ({ authorization: `Bearer user:${user}` });
    const negotiated = await fetch(`${a.url}/negotiate?negotiateVersion=1&useStatefulReconnect=true`, { method: "POST", headers: as("ann") });
    const { connectionToken, connectionId } = (await negotiated.json()) as { connectionToken: string; connectionId: string };
    const first = await RawHubSocket.open(`${a.url}?id=${connectionToken}`, { headers: as("ann"), version: 2 });
    cleanups.push(() => first.close());
    expect(await first.invoke("join", ["room"], "1")).toMatchObject({ type: 3, invocationId: "1" });
    a.kill("SIGKILL");
    await a.exited;

    // Taken over from Redis (the lease runs out first), then refused: the token is not the user's.
    const refused = await RawHubSocket.open(`${b.url}?id=${connectionToken}`, { headers: as("mallory"), version: 2 }).then(
      () => "opened",
      (error: Error) => error.message,
    );
    expect(refused).toBe("refused with 403");
    // The owner's re-attach resumes it: no handshake answer on a re-attach, the Sequence first.
    const socket = new WebSocket(`${b.url.replace(/^http/, "ws")}?id=${connectionToken}`, { headers: as("ann") });
    const records: Array<Record<string, unknown>> = [];
    socket.on("message", (data: Buffer) =>
      records.push(
        ...data
          .toString()
          .split("\u001e")
          .filter(Boolean)
          .map((record) => JSON.parse(record)),
      ),
    );
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    cleanups.push(() => socket.terminate());
    // Its one message so far (the join) was received: it replays from the next.
    socket.send(`{"type":9,"sequenceId":2}\u001e`);
    socket.send(`{"type":1,"invocationId":"2","target":"whoAmI","arguments":[]}\u001e`);
    const sender = await client(b.url);
    await eventually(() => records.some((record) => record["invocationId"] === "2"), "whoAmI's answer");
    expect(records[0]).toMatchObject({ type: 9 });
    expect(records.find((record) => record["invocationId"] === "2")).toMatchObject({ result: connectionId });
    // Still in its group, on the node that took it over.
    await sender.invoke("toGroup", "room", "after the takeover");
    await eventually(() => records.some((record) => record["target"] === "message"), "the group's message");
    expect(records.find((record) => record["target"] === "message")).toMatchObject({ arguments: ["after the takeover"] });
  }, 30_000);
});
