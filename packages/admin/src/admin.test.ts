/**
 * The admin page in Chromium against a real server with official clients connected: what it
 * shows, both actions, and that a request `authorize` refuses gets nothing of the page or its hub.
 * Screenshots go to packages/admin/test-output/.
 */

import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { createHubServer, defineHub, type HubContract } from "@hubwire/server";
import { launchChromium } from "@hubwire/test-support";
import { HttpTransportType, type HubConnection, HubConnectionBuilder, NullLogger } from "@microsoft/signalr";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdmin } from "./index.js";

interface Chat extends HubContract {
  server: { join(room: string): void; send(room: string, text: string): void };
  client: { receive(text: string): void };
}
const chat = defineHub<Chat>({
  name: "chat",
  methods: {
    join: (ctx, room) => ctx.groups.add(ctx.connectionId, room),
    send: (ctx, room, text) => ctx.clients.group(room).receive(text),
  },
});

const output = fileURLToPath(new URL("../test-output/", import.meta.url));
const operatorCookie = "operator=letmein";

describe("the admin page", () => {
  let server: Server;
  let origin: string;
  let browser: Browser;
  const clients = new Map<string, HubConnection>();

  beforeAll(async () => {
    mkdirSync(output, { recursive: true });
    const admin = createAdmin({ hubs: { chat }, authorize: ({ headers }) => (headers["cookie"] ?? "").includes(operatorCookie), refreshMs: 200 });
    const hubs = createHubServer({
      hubs: { "/chat": chat, [admin.hubPath]: admin.hub },
      authenticate: ({ accessToken }) => (accessToken === undefined ? undefined : { userId: accessToken }),
    });
    admin.attach(hubs);
    server = createServer((request, response) => admin.handleRequest(request, response) || response.writeHead(404).end("Not the admin page."));
    hubs.attach(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const [user, transport] of [
      ["ada", HttpTransportType.WebSockets],
      ["grace", HttpTransportType.LongPolling],
    ] as const) {
      const connection = new HubConnectionBuilder()
        .withUrl(`${origin}/chat`, { transport, accessTokenFactory: () => user })
        .configureLogging(NullLogger.instance)
        .build();
      connection.on("receive", () => undefined);
      await connection.start();
      clients.set(user, connection);
    }
    await clients.get("ada")!.invoke("join", "lobby");
    await clients.get("grace")!.invoke("join", "lobby");
    await clients.get("grace")!.invoke("join", "rust");
    await clients.get("ada")!.invoke("send", "lobby", "hello");
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([...clients.values()].map((connection) => connection.stop()));
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("shows the hub's node, connections and groups live, and acts on them", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addCookies([{ name: "operator", value: "letmein", url: origin }]);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${origin}/admin`);
    await page.waitForSelector("tr[data-connection]");
    await page.waitForFunction(() => document.querySelectorAll("tr[data-connection]").length === 2);
    expect(await page.textContent("#nodes")).toContain("2 connections, 2 groups");
    const rows = await page.$$eval("tr[data-connection]", (trs) => trs.map((tr) => tr.textContent ?? ""));
    expect(rows.some((row) => row.includes("ada") && row.includes("WebSockets") && row.includes("lobby"))).toBe(true);
    expect(rows.some((row) => row.includes("grace") && row.includes("LongPolling") && row.includes("rust"))).toBe(true);
    expect(await page.$$eval("tr[data-group-row]", (trs) => trs.map((tr) => tr.textContent))).toEqual(["lobby2", "rust1"]);
    // The charts have a line per node and per transport once two readings are in.
    await page.waitForFunction(() => document.querySelectorAll("#chart-transports polyline").length === 2);
    expect(await page.textContent("#legend-transports")).toMatch(/LongPolling: 1.*WebSockets: 1/);
    await page.waitForFunction(() => document.querySelectorAll("#chart-transport-messages polyline").length === 2);
    await page.screenshot({ path: `${output}admin-page.png`, fullPage: true });

    // Search narrows the table.
    await page.fill("#connection-search", "grac");
    await page.waitForFunction(() => document.querySelectorAll("tr[data-connection]").length === 1);
    await page.fill("#connection-search", "");
    await page.waitForFunction(() => document.querySelectorAll("tr[data-connection]").length === 2);

    // Remove grace from rust, then disconnect ada: her client hears why.
    const grace = clients.get("grace")!.connectionId!;
    await page.click(`button[data-remove="${grace}"][data-group="rust"]`);
    await page.waitForFunction(() => document.querySelectorAll("tr[data-group-row]").length === 1);
    const adaClosed = new Promise<Error | undefined>((resolve) => clients.get("ada")!.onclose(resolve));
    await page.click(`button[data-disconnect="${clients.get("ada")!.connectionId}"]`);
    expect(String(await adaClosed)).toContain("The server's operator ended the connection.");
    await page.waitForFunction(() => document.querySelectorAll("tr[data-connection]").length === 1);
    await page.screenshot({ path: `${output}admin-page-after-actions.png`, fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });

  it("gives a request authorize refuses nothing: not the page, its script, nor its hub", async () => {
    for (const path of ["/admin", "/admin/", "/admin/admin.js"]) {
      const response = await fetch(`${origin}${path}`);
      expect(response.status, path).toBe(403);
      const body = await response.text();
      expect(body).toBe("Forbidden.");
    }
    const negotiate = await fetch(`${origin}/admin/hub/negotiate?negotiateVersion=1`, { method: "POST" });
    expect(negotiate.status).toBe(403);
    const page = await browser.newPage();
    await page.goto(`${origin}/admin`);
    expect(await page.textContent("body")).toBe("Forbidden.");
    await page.screenshot({ path: `${output}admin-page-refused.png` });
    await page.close();
    // With the cookie, the same requests are served.
    expect((await fetch(`${origin}/admin`, { headers: { cookie: operatorCookie } })).status).toBe(200);
    expect((await fetch(`${origin}/admin/hub/negotiate?negotiateVersion=1`, { method: "POST", headers: { cookie: operatorCookie } })).status).toBe(200);
  });

  it("refuses to be created without authorize, unless told it is local development", () => {
    expect(() => createAdmin({ hubs: { chat } })).toThrow(/needs an authorize hook/);
    expect(createAdmin({ hubs: { chat }, localDevelopment: true }).hubPath).toBe("/admin/hub");
  });
});
