import type { HubOptions } from "@hubwire/server";
import { HttpTransportType, HubConnectionBuilder, type IHubProtocol, LogLevel, Subject } from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { decodeEnvelope, EnvelopeKind, encodeEnvelope } from "./envelope.js";
import { cleanUp, cleanups, eventually, notes, roundRobin, startNodes } from "./test-helpers/routed-nodes.js";

afterEach(cleanUp);

const stateful = { allowStatefulReconnect: true, statefulReconnectWindowMs: 10_000 };

/** Two nodes with stateful reconnect that know each other. */
async function twoNodes(options: { mortal?: boolean; hubOptions?: HubOptions } = {}) {
  const [a, b] = await startNodes(["a", "b"], { ...options, hubOptions: { ...stateful, ...options.hubOptions } });
  return [a!, b!] as const;
}

/**
 * The official client with stateful reconnect behind a balancer with no affinity in front of `a`
 * and `b`: negotiate goes to a, the WebSocket to b (which claims the connection). With
 * `relayed`, its network is cut once and the re-attach reaches a, which relays it to b.
 */
async function officialClient(
  nodes: readonly [{ port: number }, { port: number }],
  options: { protocol?: IHubProtocol; relayedUnder?: Array<{ bytes: Buffer }> } = {},
) {
  const balancer = await roundRobin(nodes.map((node) => node.port));
  let builder = new HubConnectionBuilder()
    .withUrl(`${balancer.url}/hub`, { transport: HttpTransportType.WebSockets })
    .withStatefulReconnect()
    .configureLogging(LogLevel.None);
  if (options.protocol !== undefined) builder = builder.withHubProtocol(options.protocol);
  const connection = builder.build();
  cleanups.push(() => connection.stop());
  const events = { reconnecting: 0 };
  connection.onreconnecting(() => events.reconnecting++);
  await connection.start();
  const captured = options.relayedUnder;
  if (captured !== undefined) {
    balancer.cut();
    await eventually(() => captured.some(({ bytes }) => decodeEnvelope(bytes)?.kind === EnvelopeKind.RelayAnswer), "the re-attach to be relayed");
  }
  return { connection, balancer, events };
}

/** What a refused WebSocket handshake was answered. */
function refusalOf(socket: WebSocket): Promise<{ status: number; body: string }> {
  socket.on("error", () => undefined);
  return new Promise((resolve, reject) => {
    socket.once("unexpected-response", (_request, response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    socket.once("open", () => reject(new Error("the WebSocket opened")));
  });
}

/** Relays open on a node (what `hubwire.backplane.relays` reads). */
const relayCount = (node: { manager(): { routing: unknown } }) => (node.manager().routing as { relays: { size: number } }).relays.size;

/** Records every message on the nodes' own channels (where relays travel). */
async function spyOnServerChannels() {
  const spy = new Redis(6379, "127.0.0.1");
  cleanups.push(() => spy.disconnect());
  const captured: Array<{ channel: string; bytes: Buffer }> = [];
  await spy.psubscribe("*:internal:server:*");
  spy.on("pmessageBuffer", (_pattern: Buffer, channel: Buffer, bytes: Buffer) => captured.push({ channel: channel.toString(), bytes }));
  return captured;
}

const protocols: ReadonlyArray<readonly [string, () => IHubProtocol | undefined]> = [
  ["JSON", () => undefined],
  ["MessagePack", () => new MessagePackHubProtocol()],
];

describe("a WebSocket re-attach that reaches another node is relayed to the holder", () => {
  for (const [name, protocol] of protocols) {
    it(`official client, ${name}: cuts mid-traffic, re-attaches on the other node: 0 lost, 0 duplicated, same id, no onreconnecting`, async () => {
      const [a, b] = await twoNodes();
      const hubProtocol = protocol();
      const { connection, balancer, events } = await officialClient([a, b], hubProtocol === undefined ? {} : { protocol: hubProtocol });
      const received: string[] = [];
      connection.on("receive", (text: string) => received.push(text));
      const id = connection.connectionId;
      // Negotiate went to a, the WebSocket to b, which claimed the connection.
      expect(await connection.invoke("whereAmI")).toBe("b");
      const count = 300;
      const burst = connection.invoke("burst", count);
      const sending = (async () => {
        for (let n = 0; n < count; n++) {
          await connection.send("note", String(n));
          if (n % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      // Each cut's re-attach goes to the next node: every other one reaches a, which relays it to b.
      for (let cut = 0; cut < 4; cut++) {
        await new Promise((resolve) => setTimeout(resolve, 80));
        const before = balancer.served.length;
        balancer.cut();
        await eventually(() => balancer.served.length > before, "the client to re-attach");
        expect(events.reconnecting, `onreconnecting after cut ${cut + 1}`).toBe(0);
      }
      await sending;
      expect(await burst).toBe(count);
      await eventually(() => received.length >= count && notes.length >= count, "every message both ways");
      const numbers = Array.from({ length: count }, (_, n) => String(n));
      expect(received).toEqual(numbers);
      expect(notes).toEqual(numbers.map((n) => `b ${n}`));
      expect(connection.connectionId).toBe(id);
      expect(events.reconnecting).toBe(0);
      expect(await connection.invoke("whereAmI")).toBe("b");
      // Two of the four re-attaches reached a (the node not holding the connection) and were relayed.
      expect(balancer.served.filter((line) => line === "upgrade 0")).toHaveLength(2);
      expect(a.hubs.connectionCount("/hub")).toBe(0);
    }, 30_000);
  }

  it("closes a relay whose frames were lost between nodes (1011), and the client's re-attach loses nothing", async () => {
    const [a, b] = await twoNodes();
    const captured = await spyOnServerChannels();
    // The re-attach reached a and is relayed to b.
    const { connection, balancer, events } = await officialClient([a, b], { relayedUnder: captured });
    await connection.send("note", "before");
    const opened = captured.map(({ bytes }) => decodeEnvelope(bytes)).find((envelope) => envelope?.kind === EnvelopeKind.RelayAnswer);
    if (opened?.kind !== EnvelopeKind.RelayAnswer) throw new Error("no relay answer");
    expect(await connection.invoke("whereAmI")).toBe("b");
    // A frame numbered past the next one reaches the holder: one went missing.
    const publisher = new Redis(6379, "127.0.0.1");
    cleanups.push(() => publisher.disconnect());
    const holderChannel = captured.find(({ bytes }) => decodeEnvelope(bytes)?.kind === EnvelopeKind.RelayOpen)!.channel;
    await publisher.publish(
      holderChannel,
      Buffer.from(
        encodeEnvelope({ kind: EnvelopeKind.RelayFrame, relayId: opened.relayId, serverId: "a", seq: 1_000, isBinary: false, data: Buffer.from("{}") }),
      ),
    );
    // Both ends close; the client re-attaches (on b this time) and what it sent meanwhile arrives once.
    await eventually(() => balancer.served.filter((line) => line.startsWith("upgrade")).length === 3, "the client to re-attach after the relay closed");
    await connection.send("note", "after");
    await eventually(() => notes.length === 2, "both notes");
    expect(notes).toEqual(["b before", "b after"]);
    // Counted where it broke; the entry's end closed as told, and no relay is left open.
    expect(b.manager().stats.relaysBroken).toBe(1);
    expect(a.manager().stats.relaysBroken).toBe(0);
    await eventually(() => relayCount(a) === 0 && relayCount(b) === 0, "both ends to close");
    expect(events.reconnecting).toBe(0);
  }, 30_000);

  it("passes the holder's refusal to the client's handshake (a connection without stateful reconnect: 409)", async () => {
    const [a, b] = await twoNodes();
    const negotiated = await fetch(`http://127.0.0.1:${a.port}/hub/negotiate?negotiateVersion=1`, { method: "POST" });
    const token = ((await negotiated.json()) as { connectionToken: string }).connectionToken;
    // b claims it over a WebSocket; a second WebSocket on a is relayed to b, which refuses it.
    const first = new WebSocket(`ws://127.0.0.1:${b.port}/hub?id=${token}`);
    cleanups.push(() => first.terminate());
    await new Promise((resolve, reject) => first.once("open", resolve).once("error", reject));
    first.send('{"protocol":"json","version":1}\u001e');
    await eventually(() => b.hubs.connectionCount("/hub") === 1, "b to hold it");
    const second = new WebSocket(`ws://127.0.0.1:${a.port}/hub?id=${token}`);
    cleanups.push(() => second.terminate());
    expect(await refusalOf(second)).toEqual({ status: 409, body: "Another transport request is already active for this connection." });
    expect(first.readyState).toBe(WebSocket.OPEN);
  });

  it("closes the client's relayed socket (1011) once the holder is gone, within its liveness bound", async () => {
    const [a, b] = await twoNodes({ mortal: true });
    const negotiated = await fetch(`http://127.0.0.1:${b.port}/hub/negotiate?negotiateVersion=1&useStatefulReconnect=true`, { method: "POST" });
    const token = ((await negotiated.json()) as { connectionToken: string }).connectionToken;
    const first = new WebSocket(`ws://127.0.0.1:${b.port}/hub?id=${token}`);
    cleanups.push(() => first.terminate());
    await new Promise((resolve, reject) => first.once("open", resolve).once("error", reject));
    first.send('{"protocol":"json","version":2}\u001e');
    await new Promise((resolve) => first.once("message", resolve));
    first.terminate();
    const relayed = new WebSocket(`ws://127.0.0.1:${a.port}/hub?id=${token}`);
    cleanups.push(() => relayed.terminate());
    await new Promise((resolve, reject) => relayed.once("open", resolve).once("error", reject));
    const closed = new Promise<number>((resolve) => relayed.once("close", resolve));
    // b leaves the backplane without a word (its Redis connections killed, never to return).
    const killer = new Redis(6379, "127.0.0.1");
    cleanups.push(() => killer.disconnect());
    const list = (await killer.client("LIST")) as string;
    for (const line of list.split("\n").filter((entry) => entry.includes("name=node-b"))) await killer.client("KILL", "ID", /id=(\d+)/.exec(line)![1]!);
    const started = Date.now();
    const bound = new Promise<string>((resolve) => setTimeout(() => resolve("still open after 5 s"), 5_000).unref());
    expect(await Promise.race([closed, bound])).toBe(1011);
    // Three heartbeat intervals (300 ms here) and a sweep.
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("pauses the client's socket on the entry while the holder does not read, and resumes it: an upload read slowly arrives whole", async () => {
    const [a, b] = await twoNodes({ hubOptions: { streamBufferCapacity: 2 } });
    const captured = await spyOnServerChannels();
    const { connection } = await officialClient([a, b], { relayedUnder: captured });
    const subject = new Subject<number>();
    const sum = connection.invoke("slowSum", subject);
    for (let n = 1; n <= 40; n++) subject.next(n);
    subject.complete();
    expect(await sum).toBe(820);
    const flow = captured.flatMap(({ bytes }) => {
      const envelope = decodeEnvelope(bytes);
      return envelope?.kind === EnvelopeKind.RelayFlow ? [envelope.paused] : [];
    });
    // The holder told the entry to stop reading the client when its upload buffer filled, and to go on.
    expect(flow).toContain(true);
    expect(flow.at(-1)).toBe(false);
  });

  it("answers a frame for a relay the node does not have with a close, so that the sender's end does not live on", async () => {
    const [a, b] = await twoNodes();
    const captured = await spyOnServerChannels();
    const { connection } = await officialClient([a, b], { relayedUnder: captured });
    const open = captured.find(({ bytes }) => decodeEnvelope(bytes)?.kind === EnvelopeKind.RelayOpen)!;
    const answer = captured.find(({ bytes }) => decodeEnvelope(bytes)?.kind === EnvelopeKind.RelayAnswer)!;
    const entry = decodeEnvelope(open.bytes)!;
    if (entry.kind !== EnvelopeKind.RelayOpen) throw new Error("not an open");
    const publisher = new Redis(6379, "127.0.0.1");
    cleanups.push(() => publisher.disconnect());
    const frame = { kind: EnvelopeKind.RelayFrame, relayId: "gone:1", serverId: entry.serverId, seq: 0, isBinary: false, data: Buffer.from("{}") } as const;
    await publisher.publish(open.channel, Buffer.from(encodeEnvelope(frame)));
    await eventually(
      () =>
        captured.some(({ channel, bytes }) => {
          const envelope = decodeEnvelope(bytes);
          return channel === answer.channel && envelope?.kind === EnvelopeKind.RelayClose && envelope.relayId === "gone:1" && envelope.code === 1011;
        }),
      "the holder to answer the unknown relay's frame with a close",
    );
    // The open relay was not touched.
    expect(await connection.invoke("whereAmI")).toBe("b");
  });

  it("passes the holder's refusal of an event stream to the client as it is (a long-polling connection: 400)", async () => {
    const [a, b] = await twoNodes();
    const negotiated = await fetch(`http://127.0.0.1:${a.port}/hub/negotiate?negotiateVersion=1&useStatefulReconnect=true`, { method: "POST" });
    const token = ((await negotiated.json()) as { connectionToken: string }).connectionToken;
    const url = (node: { port: number }, query = "") => `http://127.0.0.1:${node.port}/hub?id=${token}${query}`;
    // b claims it with a poll, and it becomes stateful at its handshake.
    expect((await fetch(url(b))).status).toBe(200);
    expect((await fetch(url(b), { method: "POST", body: '{"protocol":"json","version":2}\u001e' })).status).toBe(200);
    expect(await (await fetch(url(b))).text()).toBe("{}\u001e");
    // An event stream re-attaching it on a is relayed to b, whose answer the client gets.
    const stream = await fetch(url(a, "&link=1"), { headers: { Accept: "text/event-stream" } });
    expect(stream.status).toBe(400);
    expect(stream.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await stream.text()).toBe("Cannot change transports mid-connection");
    expect(b.hubs.connectionCount("/hub")).toBe(1);
  });

  it("authenticates a relayed re-attach on the holder: another user's token is refused there (403), the owner's resumes", async () => {
    const [a, b] = await twoNodes();
    const negotiated = await fetch(`http://127.0.0.1:${b.port}/hub/negotiate?negotiateVersion=1&useStatefulReconnect=true`, {
      method: "POST",
      headers: { Authorization: "Bearer ann" },
    });
    const token = ((await negotiated.json()) as { connectionToken: string }).connectionToken;
    const open = (port: number, user: string) => new WebSocket(`ws://127.0.0.1:${port}/hub?id=${token}`, { headers: { Authorization: `Bearer ${user}` } });
    const first = open(b.port, "ann");
    cleanups.push(() => first.terminate());
    await new Promise((resolve, reject) => first.once("open", resolve).once("error", reject));
    first.send('{"protocol":"json","version":2}\u001e');
    await new Promise((resolve) => first.once("message", resolve));
    first.terminate();
    // Ben holds the token but not the connection: the holder refuses him through the relay.
    const forged = open(a.port, "ben");
    cleanups.push(() => forged.terminate());
    expect(await refusalOf(forged)).toEqual({ status: 403, body: "The connection belongs to another user." });
    // Ann's own re-attach through a is relayed and resumed: the holder sends its Sequence.
    const resumed = open(a.port, "ann");
    cleanups.push(() => resumed.terminate());
    const firstFrame = new Promise<string>((resolve) => resumed.once("message", (data: Buffer) => resolve(data.toString())));
    await new Promise((resolve, reject) => resumed.once("open", resolve).once("error", reject));
    expect(await firstFrame).toMatch(/^\{"type":9,"sequenceId":\d+\}/);
    expect(b.hubs.connectionCount("/hub")).toBe(1);
  });

  it("hands its relayed clients back when the entry shuts down: they re-attach on the holder, nothing lost, no onreconnecting", async () => {
    const [a, b] = await twoNodes();
    const captured = await spyOnServerChannels();
    const { connection, balancer, events } = await officialClient([a, b], { relayedUnder: captured });
    await connection.send("note", "relayed");
    await eventually(() => notes.length === 1, "the relayed note");
    // A rolling deploy: the entry stops; its relay closes (1011) and the client's re-attach goes to the next node, b.
    await a.hubs.close({ drainTimeoutMs: 0 });
    await eventually(() => balancer.served.filter((line) => line === "upgrade 1").length === 2, "the client to re-attach on b");
    await connection.send("note", "direct");
    await eventually(() => notes.length === 2, "the note after the re-attach");
    expect(notes).toEqual(["b relayed", "b direct"]);
    expect(events.reconnecting).toBe(0);
    expect(relayCount(b)).toBe(0);
  });
});
