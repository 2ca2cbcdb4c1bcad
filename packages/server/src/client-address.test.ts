import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HubRequest } from "./index.js";
import { eventually } from "./test-helpers/official-client.js";
import { negotiate, RawHubSocket } from "./test-helpers/raw-client.js";
import { testHub } from "./test-helpers/test-hub.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

/** As behind one proxy that appends the peer's address to X-Forwarded-For. */
const forwardedFor = (request: HubRequest) =>
  String(request.headers["x-forwarded-for"] ?? "")
    .split(",")
    .at(-1)
    ?.trim() || request.remoteAddress;

async function whoAmI(port: number, headers: Record<string, string>): Promise<{ remoteAddress: string | null }> {
  const socket = await RawHubSocket.open(`ws://127.0.0.1:${port}/hub`, headers);
  socket.send('{"protocol":"json","version":1}\u001e');
  await eventually(() => socket.frames.length === 1, 5_000, "the handshake answer");
  socket.send('{"type":1,"invocationId":"1","target":"whoAmI","arguments":[]}\u001e');
  await eventually(() => socket.records.length === 2, 5_000, "the answer");
  socket.close();
  return (socket.records[1] as { result: { remoteAddress: string | null } }).result;
}

describe("the client address", () => {
  describe("by default", () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer({ hubs: { "/hub": testHub }, limits: { maxConnectionsPerAddress: 1 } });
    });
    afterAll(() => server.close());

    it("is the TCP peer's, whatever X-Forwarded-For says", async () => {
      const open = await startServer({ hubs: { "/hub": testHub } });
      try {
        expect((await whoAmI(open.port, { "X-Forwarded-For": "203.0.113.7" })).remoteAddress).toBe("127.0.0.1");
      } finally {
        await open.close();
      }
      const first = await negotiate(server.origin, "/hub", "negotiateVersion=1", { method: "POST", headers: { "X-Forwarded-For": "203.0.113.1" } });
      const second = await negotiate(server.origin, "/hub", "negotiateVersion=1", { method: "POST", headers: { "X-Forwarded-For": "203.0.113.2" } });
      expect([first.status, second.status]).toEqual([200, 429]);
    });
  });

  describe("from the clientAddress option", () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer({ hubs: { "/hub": testHub }, limits: { maxConnectionsPerAddress: 1 }, clientAddress: forwardedFor });
    });
    afterAll(() => server.close());

    it("is what the per-address cap counts", async () => {
      const from = (address: string) =>
        negotiate(server.origin, "/hub", "negotiateVersion=1", { method: "POST", headers: { "X-Forwarded-For": `198.51.100.9, ${address}` } });
      expect((await from("203.0.113.1")).status).toBe(200);
      expect((await from("203.0.113.2")).status).toBe(200);
      const refused = await from("203.0.113.1");
      expect(refused.status).toBe(429);
      expect(refused.text).toBe("Too many connections from this address.");
    });

    it("is what a hub method sees as ctx.request.remoteAddress", async () => {
      expect((await whoAmI(server.port, { "X-Forwarded-For": "198.51.100.9, 203.0.113.50" })).remoteAddress).toBe("203.0.113.50");
    });
  });
});
