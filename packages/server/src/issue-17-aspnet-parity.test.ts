/**
 * What ASP.NET Core apps rely on (issue 17): hub paths match case-insensitively, a hub method reads
 * the transport and the query string, and a client's bare close frame is answered with 1000.
 */

import type { HubContract } from "@hubwire/protocol";
import { HttpTransportType } from "@microsoft/signalr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { defineHub } from "./index.js";
import { buildOfficialClient, eventually } from "./test-helpers/official-client.js";
import { negotiate } from "./test-helpers/raw-client.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

interface Features extends HubContract {
  server: { features(): { transport: string; query: Record<string, string> } };
  client: object;
}

const hub = defineHub<Features>({
  methods: {
    features: (ctx) => ({ transport: ctx.transport, query: Object.fromEntries(ctx.request?.query ?? []) }),
  },
});

describe("what ASP.NET Core apps rely on", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({
      hubs: { "/chatHub": hub },
      authenticate: ({ accessToken }) => (accessToken === undefined ? undefined : { userId: accessToken }),
    });
  });
  afterAll(() => server.close());

  it("matches hub paths case-insensitively, and decoded, as ASP.NET Core routing does", async () => {
    for (const path of ["/chathub", "/CHATHUB", "/chat%48ub"]) {
      const { status, body } = await negotiate(server.origin, path);
      expect({ path, status }).toEqual({ path, status: 200 });
      const { connection } = buildOfficialClient(`${server.origin}${path}`, "json", { transport: HttpTransportType.LongPolling });
      await connection.start();
      expect((await connection.invoke("features")).transport).toBe("LongPolling");
      await connection.stop();
      expect(body.connectionToken).toBeDefined();
    }
    expect((await fetch(`${server.origin}/chat/negotiate?negotiateVersion=1`, { method: "POST" })).status).toBe(404);
  });

  it("refuses two hub paths that differ only in case", async () => {
    await expect(startServer({ hubs: { "/chat": hub, "/Chat": hub } })).rejects.toThrow("differ only in case");
  });

  for (const transport of ["WebSockets", "ServerSentEvents", "LongPolling"] as const) {
    it(`tells a hub method the transport (${transport}) and the query string, without the tokens`, async () => {
      const { connection } = buildOfficialClient(`${server.origin}/chatHub?room=lobby&lang=fr`, "json", {
        transport: HttpTransportType[transport],
        accessTokenFactory: () => "ada",
      });
      await connection.start();
      try {
        const { transport: seen, query } = await connection.invoke("features");
        expect(seen).toBe(transport);
        expect(query).toMatchObject({ room: "lobby", lang: "fr" });
        expect(query).not.toHaveProperty("id");
        expect(query).not.toHaveProperty("access_token");
      } finally {
        await connection.stop();
      }
    });
  }

  it("answers a client's close frame without a status code with 1000, as Kestrel does", async () => {
    const { body } = await negotiate(server.origin, "/chatHub");
    const socket = new WebSocket(`${server.origin.replace("http", "ws")}/chatHub?id=${body.connectionToken}`);
    await new Promise((resolve) => socket.once("open", resolve));
    socket.send('{"protocol":"json","version":1}\u001e');
    let closedWith: number | undefined;
    socket.once("close", (code) => (closedWith = code));
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.close();
    await eventually(() => closedWith !== undefined);
    expect(closedWith).toBe(1000);
  });
});
