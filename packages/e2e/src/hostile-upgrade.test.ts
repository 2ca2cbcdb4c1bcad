import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attack } from "./harness/attack.js";
import { HubNode } from "./harness/hub-node.js";
import { type Neighbour, openNeighbour } from "./harness/neighbour.js";
import { httpRequest, RawHubSocket, rawExchange, upgradeRequest } from "./harness/raw.js";

describe("hostile WebSocket upgrades", () => {
  let node: HubNode;
  let neighbour: Neighbour;
  beforeAll(async () => {
    node = await HubNode.start();
    neighbour = await openNeighbour(node.url);
  });
  afterAll(async () => {
    await neighbour.stop();
    await node.stop();
  });

  const cases: Array<[string, () => string, number]> = [
    ["a missing Sec-WebSocket-Key", () => upgradeRequest("/hub", { "Sec-WebSocket-Key": "" }), 400],
    ["a malformed Sec-WebSocket-Key", () => upgradeRequest("/hub", { "Sec-WebSocket-Key": "not base64 of 16 bytes" }), 400],
    ["an unsupported Sec-WebSocket-Version", () => upgradeRequest("/hub", { "Sec-WebSocket-Version": "7" }), 400],
    ["2,500 header lines", () => upgradeRequest("/hub", Object.fromEntries(Array.from({ length: 2_500 }, (_, index) => [`X-Filler-${index}`, "x"]))), 431],
    ["20 KB of headers in one", () => upgradeRequest("/hub", { "X-Big": "y".repeat(20 * 1024) }), 431],
    ["a disallowed Origin", () => upgradeRequest("/hub", { Origin: "https://evil.example" }), 403],
    ["an unknown connection token", () => upgradeRequest("/hub?id=does-not-exist"), 404],
  ];

  for (const [name, request, status] of cases) {
    it(`answers ${status} to ${name}, and the neighbour is unharmed`, async () => {
      const answer = await attack(node, neighbour, `upgrade: ${name}`, () => rawExchange(node.port, [request()]));
      expect(answer.status).toBe(status);
    });
  }

  it("answers a long Sec-WebSocket-Protocol list (a ReDoS shape) at once", async () => {
    const protocols = `${"a,".repeat(3_000)}!`;
    const answer = await attack(node, neighbour, "upgrade: ReDoS-shaped Sec-WebSocket-Protocol", () =>
      rawExchange(node.port, [upgradeRequest("/hub", { "Sec-WebSocket-Protocol": protocols })], { timeoutMs: 2_000 }),
    );
    expect(answer.status).toBeDefined();
    expect(answer.status).not.toBe(500);
  });

  it("answers 409 to a second WebSocket on a token that has one", async () => {
    const negotiated = (await (await fetch(`${node.url}/negotiate?negotiateVersion=1`, { method: "POST" })).json()) as { connectionToken: string };
    const first = await RawHubSocket.open(`${node.url}?id=${negotiated.connectionToken}`);
    const second = await attack(node, neighbour, "upgrade: second socket on a token", () =>
      rawExchange(node.port, [upgradeRequest(`/hub?id=${negotiated.connectionToken}`)]),
    );
    expect(second.status).toBe(409);
    first.close();
  });

  it("survives a reset in the middle of the upgrade request", async () => {
    await attack(node, neighbour, "upgrade: RST mid-request", async () => {
      const socket = connect(node.port, "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.write(upgradeRequest("/hub").slice(0, 60));
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.resetAndDestroy();
    });
  });

  it("refuses plain HTTP on the hub path without an id, and unknown paths with 404", async () => {
    const plain = await attack(node, neighbour, "http: GET hub without id", () => rawExchange(node.port, [httpRequest("GET", "/hub")]));
    expect(plain.status).toBe(400);
    const unknown = await attack(node, neighbour, "http: unknown path", () => rawExchange(node.port, [httpRequest("GET", "/nothing-here")]));
    expect(unknown.status).toBe(404);
  });
});
