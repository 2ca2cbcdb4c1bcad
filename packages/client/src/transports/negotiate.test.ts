import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { HttpOptions } from "../http.js";
import { negotiate } from "./negotiate.js";

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A server that answers each negotiate with the next body, and records what it was asked. */
async function fakeServer(bodies: Array<(origin: string) => object>): Promise<{ origin: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  let origin = "";
  const server = createServer((request, response) => {
    requests.push(request);
    const body = bodies.shift()?.(origin) ?? { error: "no more bodies" };
    response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, requests };
}

const http: HttpOptions = { fetch, headers: {}, accessToken: () => "first-token", timeoutMs: 5_000, withCredentials: true };

describe("negotiate", () => {
  it("keeps the user's query, asks for version 1, and uses the token apart from the id", async () => {
    const { origin, requests } = await fakeServer([
      () => ({ negotiateVersion: 1, connectionId: "public", connectionToken: "secret", availableTransports: [] }),
    ]);
    const result = await negotiate(http, `${origin}/hub?tenant=a`, false);
    expect(requests[0]!.url).toBe("/hub/negotiate?tenant=a&negotiateVersion=1");
    expect(requests[0]!.headers.authorization).toBe("Bearer first-token");
    expect(result).toMatchObject({ connectionId: "public", connectionToken: "secret", useStatefulReconnect: false });
  });

  it("uses the connection id as the token with a version 0 server", async () => {
    const { origin } = await fakeServer([() => ({ connectionId: "only-id", availableTransports: [] })]);
    expect((await negotiate(http, `${origin}/hub`, false)).connectionToken).toBe("only-id");
  });

  it("follows a redirect with its access token (Azure SignalR Service style)", async () => {
    const { origin, requests } = await fakeServer([
      (base) => ({ url: `${base}/elsewhere`, accessToken: "redirect-token" }),
      () => ({ negotiateVersion: 1, connectionId: "id", connectionToken: "token", availableTransports: [] }),
    ]);
    const result = await negotiate(http, `${origin}/hub`, false);
    expect(requests[1]!.url).toBe("/elsewhere/negotiate?negotiateVersion=1");
    expect(requests[1]!.headers.authorization).toBe("Bearer redirect-token");
    expect(result.url).toBe(`${origin}/elsewhere`);
    expect(result.accessToken).toBe("redirect-token");
  });

  it("rejects with the server's error text, an old ASP.NET server, and stateful reconnect it did not ask for", async () => {
    const { origin } = await fakeServer([
      () => ({ error: "The client requested version '0', but the server does not support this version." }),
      () => ({ ProtocolVersion: "1.5" }),
      () => ({ negotiateVersion: 1, connectionId: "a", connectionToken: "b", useStatefulReconnect: true, availableTransports: [] }),
    ]);
    await expect(negotiate(http, `${origin}/hub`, false)).rejects.toThrow("The client requested version '0', but the server does not support this version.");
    await expect(negotiate(http, `${origin}/hub`, false)).rejects.toThrow(/ASP\.NET/);
    await expect(negotiate(http, `${origin}/hub`, false)).rejects.toThrow("Client didn't negotiate Stateful Reconnect but the server did.");
  });
});
