import { createServer, type Server } from "node:http";
import { connect as connectHttp2 } from "node:http2";
import type { AddressInfo } from "node:net";
import { selfSignedCertificate } from "@hubwire/test-support";
import express from "express";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createHubServer, createWebSocketEndpoint, useHubsWithExpress, useHubsWithFastify } from "../index.js";
import { buildOfficialClient } from "../test-helpers/official-client.js";
import { testHub } from "../test-helpers/test-hub.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function roundTrip(origin: string): Promise<unknown> {
  const { connection } = buildOfficialClient(`${origin}/hub`, "json");
  await connection.start();
  cleanups.push(() => connection.stop());
  return connection.invoke("echo", "through the adapter");
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

describe("mounting", () => {
  it("attaches to a node:http server that keeps its own routes", async () => {
    const hubs = createHubServer({ hubs: { "/hub": testHub } });
    const server = createServer((_request, response) => response.end("app route"));
    hubs.attach(server);
    const origin = await listen(server);
    cleanups.push(async () => {
      await hubs.close();
      server.closeAllConnections();
      server.close();
    });
    expect(await roundTrip(origin)).toBe("through the adapter");
    expect(await (await fetch(`${origin}/other`)).text()).toBe("app route");
  });

  it("works as Express middleware, next to Express routes", async () => {
    const hubs = createHubServer({ hubs: { "/hub": testHub } });
    const app = express();
    const server = createServer(app);
    useHubsWithExpress(app, server, hubs);
    app.get("/health", (_request, response) => response.send("ok"));
    const origin = await listen(server);
    cleanups.push(async () => {
      await hubs.close();
      server.closeAllConnections();
      server.close();
    });
    expect(await roundTrip(origin)).toBe("through the adapter");
    expect(await (await fetch(`${origin}/health`)).text()).toBe("ok");
  });

  it("works on Fastify, next to Fastify routes, and closes with it, with a client still connected", async () => {
    const app = Fastify();
    const hubs = createHubServer({ hubs: { "/hub": testHub } });
    useHubsWithFastify(app, hubs);
    app.get("/health", async () => "ok");
    const origin = await app.listen({ port: 0, host: "127.0.0.1" });
    expect(await roundTrip(origin)).toBe("through the adapter");
    expect(await (await fetch(`${origin}/health`)).text()).toBe("ok");
    // app.close() ends the hubs first: the connected client is told, and the close does not hang.
    const { connection } = buildOfficialClient(`${origin}/hub`, "json");
    await connection.start();
    const closed = new Promise<Error | undefined>((resolve) => connection.onclose(resolve));
    await app.close();
    expect(String(await closed)).toContain("The server is shutting down.");
  });

  it("works on Fastify over HTTP/2: negotiate and routes as HTTP/2 requests, WebSockets as extended CONNECT", async () => {
    const app = Fastify({ http2: true, https: { ...selfSignedCertificate(), allowHTTP1: true } });
    const hubs = createHubServer({ hubs: { "/hub": testHub } });
    useHubsWithFastify(app, hubs);
    app.get("/health", async () => "ok");
    const origin = await app.listen({ port: 0, host: "127.0.0.1" });
    const session = connectHttp2(origin, { rejectUnauthorized: false });
    cleanups.push(async () => {
      session.close();
      await app.close();
    });
    const ask = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve) => {
        const stream = session.request(headers);
        let status = 0;
        let body = "";
        stream.once("response", (response) => (status = Number(response[":status"])));
        stream.setEncoding("utf8");
        stream.on("data", (chunk: string) => (body += chunk));
        stream.once("close", () => resolve({ status, body }));
        if (headers[":method"] === "CONNECT") stream.once("response", () => stream.close());
        else stream.end();
      });
    const negotiate = await ask({ ":method": "POST", ":path": "/hub/negotiate?negotiateVersion=1" });
    expect(negotiate.status).toBe(200);
    expect(JSON.parse(negotiate.body)).toMatchObject({ negotiateVersion: 1, connectionToken: expect.any(String) as unknown });
    expect(await ask({ ":method": "GET", ":path": "/health" })).toEqual({ status: 200, body: "ok" });
    expect(session.remoteSettings.enableConnectProtocol).toBe(true);
    const authority = new URL(origin).host;
    expect((await ask({ ":method": "CONNECT", ":protocol": "websocket", ":path": "/hub", ":scheme": "https", ":authority": authority })).status).toBe(200);
  });

  it("mounts the raw WebSocket endpoint on Express and on Fastify", async () => {
    const endpoint = createWebSocketEndpoint(async (socket) => {
      for await (const message of socket) socket.send(`echo ${message.text()}`);
    });
    const app = express();
    app.get("/ws", (request, response) => endpoint.handleRequest(request, response));
    const server = createServer(app);
    server.on("upgrade", (request, socket, head) => (request.url === "/ws" ? endpoint.handleUpgrade(request, socket, head) : socket.destroy()));
    const origin = await listen(server);
    const fastify = Fastify();
    fastify.get("/ws", (request, reply) => {
      reply.hijack();
      endpoint.handleRequest(request.raw, reply.raw);
    });
    fastify.server.on("upgrade", (request, socket, head) => (request.url === "/ws" ? endpoint.handleUpgrade(request, socket, head) : socket.destroy()));
    const fastifyOrigin = await fastify.listen({ port: 0, host: "127.0.0.1" });
    cleanups.push(async () => {
      endpoint.close();
      server.closeAllConnections();
      server.close();
      fastify.server.closeAllConnections();
      await fastify.close();
    });
    for (const base of [origin, fastifyOrigin]) {
      expect((await fetch(`${base}/ws`)).status).toBe(400);
      const socket = new WebSocket(`${base.replace("http", "ws")}/ws`);
      const reply = new Promise<string>((resolve) => socket.once("message", (data: Buffer) => resolve(data.toString())));
      await new Promise((resolve) => socket.once("open", resolve));
      socket.send("hi");
      expect(await reply).toBe("echo hi");
      socket.close();
    }
  });
});
