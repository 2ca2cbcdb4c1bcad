import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HubNode } from "./harness/hub-node.js";
import { eventually, RawHubSocket } from "./harness/raw.js";
import { tally } from "./harness/scoreboard.js";

describe("load", () => {
  let node: HubNode;
  beforeAll(async () => {
    node = await HubNode.start({ hubOptions: { keepAliveIntervalMs: 1_000, clientTimeoutMs: 5_000 } });
  });
  afterAll(() => node.stop());

  it("takes 100 clients x 200 invocations/s for 3 s with nothing lost and each client's order kept", async () => {
    const clients = await Promise.all(Array.from({ length: 100 }, () => RawHubSocket.open(node.url)));
    const perClient = 600;
    const started = Date.now();
    // 200/s each: a batch of 2 calls every 10 ms.
    for (let sent = 0; sent < perClient; sent += 2) {
      for (const client of clients) {
        client.send(
          `{"type":1,"invocationId":"${sent}","target":"echo","arguments":[${sent}]}\u001e{"type":1,"invocationId":"${sent + 1}","target":"echo","arguments":[${sent + 1}]}\u001e`,
        );
      }
      const due = started + (sent / 2 + 1) * 10;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
    }
    await eventually(() => clients.every((client) => client.records.filter((record) => record["type"] === 3).length === perClient), "every answer", 30_000);
    let lost = 0;
    let duplicated = 0;
    for (const client of clients) {
      const results = client.records.filter((record) => record["type"] === 3).map((record) => record["result"] as number);
      expect(results).toEqual(Array.from({ length: perClient }, (_, index) => index));
      lost += perClient - new Set(results).size;
      duplicated += results.length - new Set(results).size;
      client.close();
    }
    tally({ kind: "delivery", case: "100 clients x 200 calls/s for 3 s", sent: 100 * perClient, lost, duplicated });
  });

  it("survives a storm of 1,000 connections opened at once", async () => {
    const sockets = await Promise.all(Array.from({ length: 1_000 }, () => RawHubSocket.open(node.url)));
    expect(sockets.every((socket) => socket.records[0] !== undefined && Object.keys(socket.records[0]).length === 0)).toBe(true);
    expect((await sockets[999]!.invoke("echo", ["last"]))["result"]).toBe("last");
    for (const socket of sockets) socket.close();
  });

  it("delivers nothing to a connection after its leave has completed, under group churn", async () => {
    const sender = await RawHubSocket.open(node.url);
    const members = await Promise.all(Array.from({ length: 20 }, () => RawHubSocket.open(node.url)));
    let late = 0;
    let delivered = 0;
    let sending = true;
    const pump = (async () => {
      for (let index = 0; sending; index++) {
        sender.send(`{"type":1,"target":"toGroup","arguments":["churn","m${index}"]}\u001e`);
        if (index % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    for (let round = 0; round < 10; round++) {
      await Promise.all(members.map((member) => member.invoke("join", ["churn"], `join-${round}`)));
      await new Promise((resolve) => setTimeout(resolve, 20));
      await Promise.all(
        members.map(async (member) => {
          await member.invoke("leave", ["churn"], `leave-${round}`);
          const leftAt = member.records.length;
          await new Promise((resolve) => setTimeout(resolve, 20));
          late += member.records.slice(leftAt).filter((record) => record["target"] === "message").length;
        }),
      );
    }
    sending = false;
    await pump;
    for (const member of members) delivered += member.records.filter((record) => record["target"] === "message").length;
    expect(delivered).toBeGreaterThan(0);
    expect(late).toBe(0);
    for (const socket of [sender, ...members]) socket.close();
  });

  it("holds 10,000 idle connections through keep-alive rounds, and they all still answer", async () => {
    const sockets: RawHubSocket[] = [];
    // Pinging from the first batch on, as a client does from its start: opening all of them may
    // take longer than the client timeout on a busy machine.
    const pings = setInterval(() => {
      for (const socket of sockets) socket.send('{"type":6}\u001e');
    }, 1_000);
    try {
      for (let batch = 0; batch < 50; batch++) sockets.push(...(await Promise.all(Array.from({ length: 200 }, () => RawHubSocket.open(node.url)))));
      // Past the server's client timeout (5 s), and several of its pings (every 1 s).
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      expect(sockets.filter((socket) => socket.closed !== undefined)).toHaveLength(0);
      expect(sockets.every((socket) => socket.records.some((record) => record["type"] === 6))).toBe(true);
      const sample = [0, 2_500, 5_000, 7_500, 9_999].map((index) => sockets[index]!);
      for (const socket of sample) expect((await socket.invoke("echo", ["awake"]))["result"]).toBe("awake");
    } finally {
      clearInterval(pings);
      for (const socket of sockets) socket.close();
    }
  }, 120_000);
});
