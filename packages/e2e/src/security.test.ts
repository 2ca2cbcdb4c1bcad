import { request } from "node:http";
import { HttpTransportType, HubConnectionBuilder, LogLevel } from "@microsoft/signalr";
import { encode } from "@msgpack/msgpack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HubNode } from "./harness/hub-node.js";
import { eventually, RawHubSocket, rawExchange, upgradeRequest } from "./harness/raw.js";

/** POST negotiate from a chosen source address; the status and body. */
function negotiateFrom(node: HubNode, localAddress = "127.0.0.1"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(`${node.url}/negotiate?negotiateVersion=1`, { method: "POST", localAddress }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}

describe("security", () => {
  let node: HubNode;
  beforeAll(async () => {
    node = await HubNode.start();
  });
  afterAll(() => node.stop());

  it("blocks cross-site WebSocket hijacking: a foreign Origin gets 403 before any upgrade, and no CORS grant", async () => {
    const upgrade = await rawExchange(node.port, [upgradeRequest("/hub", { Origin: "https://evil.example" })]);
    expect(upgrade.status).toBe(403);
    const negotiate = await fetch(`${node.url}/negotiate?negotiateVersion=1`, { method: "POST", headers: { Origin: "https://evil.example" } });
    expect(negotiate.headers.get("access-control-allow-origin")).toBeNull();
    const allowed = await rawExchange(node.port, [upgradeRequest("/hub", { Origin: "https://app.example.com" })], { timeoutMs: 500 });
    expect(allowed.status).toBe(101);
  });

  it("never opens a connection by its public id, only by its secret token", async () => {
    const body = JSON.parse((await negotiateFrom(node)).body) as { connectionId: string; connectionToken: string };
    expect((await rawExchange(node.port, [upgradeRequest(`/hub?id=${body.connectionId}`)])).status).toBe(404);
    expect((await fetch(`${node.url}?id=${body.connectionId}`)).status).toBe(404);
    const socket = await RawHubSocket.open(`${node.url}?id=${body.connectionToken}`);
    expect((await socket.invoke("echo", [1]))["result"]).toBe(1);
    socket.close();
  });

  it("refuses a method the caller may not call without running it", async () => {
    const user = await RawHubSocket.open(`${node.url}?access_token=user-token`);
    const refused = await user.invoke("secret", []);
    expect(refused["error"]).toBe("Failed to invoke 'secret' because user is unauthorized");
    expect(((await user.invoke("stats", []))["result"] as { secretRuns: number }).secretRuns).toBe(0);
    const admin = await RawHubSocket.open(`${node.url}?access_token=admin-token`);
    expect((await admin.invoke("secret", []))["result"]).toBe("the secret");
    expect(((await admin.invoke("stats", []))["result"] as { secretRuns: number }).secretRuns).toBe(1);
    user.close();
    admin.close();
  });

  it("sends no error detail and no stack to clients by default", async () => {
    const socket = await RawHubSocket.open(node.url);
    const failed = await socket.invoke("fail", []);
    expect(failed["error"]).toBe("An unexpected error occurred invoking 'fail' on the server.");
    expect(JSON.stringify(socket.records)).not.toMatch(/secret\.key|at .*\.mjs/);
    const publicly = await socket.invoke("failPublicly", []);
    expect(publicly["error"]).toBe("An unexpected error occurred invoking 'failPublicly' on the server. HubException: You may know this.");
    socket.close();
  });

  it("keeps a canary access token out of every log line and error body", async () => {
    const canary = "CANARY-7f3a9c-do-not-log";
    const bodies: string[] = [];
    // Over every transport, through errors, bad input and a refused method.
    const socket = await RawHubSocket.open(`${node.url}?access_token=${canary}`);
    await socket.invoke("fail", []);
    await socket.invoke("secret", []);
    socket.send("{broken\u001e");
    await eventually(() => socket.closed !== undefined, "the close");
    bodies.push(JSON.stringify(socket.records));
    bodies.push((await rawExchange(node.port, [upgradeRequest(`/hub?id=nope&access_token=${canary}`)])).text);
    bodies.push((await rawExchange(node.port, [upgradeRequest(`/hub?access_token=${canary}`, { Origin: "https://evil.example" })])).text);
    for (const transport of [HttpTransportType.LongPolling, HttpTransportType.ServerSentEvents]) {
      const client = new HubConnectionBuilder()
        .withUrl(node.url, { transport, accessTokenFactory: () => canary })
        .configureLogging(LogLevel.None)
        .build();
      await client.start();
      await client.invoke("fail").catch((error: Error) => bodies.push(error.message));
      await client.stop();
    }
    const response = await fetch(`${node.url}?id=unknown&access_token=${canary}`, { headers: { Authorization: `Bearer ${canary}` } });
    bodies.push(await response.text());
    const logs = node.lines.join("\n");
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(canary);
    for (const body of bodies) expect(body).not.toContain(canary);
  });

  it("never lets a decoded message reach a prototype (JSON or MessagePack): the call fails, the method never sees it", async () => {
    const refused = "Failed to invoke 'echo' due to an error on the server.";
    const json = await RawHubSocket.open(node.url);
    json.send(
      '{"type":1,"invocationId":"1","target":"echo","arguments":[{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}]}\u001e',
    );
    await eventually(() => json.records.some((entry) => entry["invocationId"] === "1"), "the JSON call to be answered");
    expect(json.records.find((entry) => entry["invocationId"] === "1")?.["error"]).toBe(refused);
    const msgpack = await RawHubSocket.open(node.url, { protocol: "messagepack" });
    const received: Buffer[] = [];
    msgpack.socket.on("message", (data: Buffer) => received.push(data));
    const body = encode([1, {}, "1", "echo", [{ ["__proto__"]: { polluted: true } }]]);
    msgpack.socket.send(Buffer.concat([Buffer.from([body.length]), body]), { binary: true });
    const answer = encode([3, {}, "1", 1, refused]);
    const expected = Buffer.concat([Buffer.from([answer.length]), answer]);
    await eventually(() => Buffer.concat(received).includes(expected), "the MessagePack call to be answered");
    expect(msgpack.closed).toBeUndefined();
    // The node still answers plain objects as plain objects.
    const probe = await RawHubSocket.open(node.url);
    expect((await probe.invoke("echo", [{}]))["result"]).toEqual({});
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    probe.close();
    json.close();
    msgpack.close();
  });

  it("offers no permessage-deflate on hub WebSockets, so there is no compression bomb to defuse", async () => {
    const answer = await rawExchange(node.port, [upgradeRequest("/hub", { "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" })], {
      timeoutMs: 500,
    });
    expect(answer.status).toBe(101);
    expect(answer.text.toLowerCase()).not.toContain("sec-websocket-extensions");
  });
});

describe("connection limits", () => {
  it("answers 429 past the per-address cap, while another address still connects", async () => {
    const node = await HubNode.start({ limits: { maxConnectionsPerAddress: 5 } });
    try {
      const answers = [];
      for (let index = 0; index < 6; index++) answers.push((await negotiateFrom(node, "127.0.0.2")).status);
      expect(answers).toEqual([200, 200, 200, 200, 200, 429]);
      expect((await negotiateFrom(node, "127.0.0.3")).status).toBe(200);
      // A WebSocket that skips negotiate counts too.
      const upgrade = await new Promise<number>((resolve) => {
        const outgoing = request(`${node.url}`, {
          localAddress: "127.0.0.2",
          headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" },
        });
        outgoing.on("response", (response) => resolve(response.statusCode ?? 0));
        outgoing.on("upgrade", () => resolve(101));
        outgoing.end();
      });
      expect(upgrade).toBe(429);
    } finally {
      await node.stop();
    }
  });

  it("answers 503 past the global cap, and takes connections again as they end", async () => {
    const node = await HubNode.start({ limits: { maxConnections: 3 }, hubOptions: { disconnectTimeoutMs: 500 } });
    try {
      const sockets = await Promise.all([1, 2, 3].map(() => RawHubSocket.open(node.url)));
      expect((await negotiateFrom(node, "127.0.0.4")).status).toBe(503);
      expect((await rawExchange(node.port, [upgradeRequest("/hub")])).status).toBe(503);
      sockets[0]!.close();
      await eventually(async () => (await negotiateFrom(node, "127.0.0.5")).status === 200, "a freed slot");
      for (const socket of sockets) socket.close();
    } finally {
      await node.stop();
    }
  });
});
