import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HttpExchange } from "./http-exchange.js";

let server: Server | undefined;
let exchange: HttpExchange | undefined;

afterEach(async () => {
  exchange?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<URL> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hub?id=x`);
}

describe("HttpExchange", () => {
  it("reads answers by Content-Length, by chunks arriving apart, and 204s, all over one socket", async () => {
    const sockets = new Set<unknown>();
    const url = await serve((request, response) => {
      sockets.add(request.socket);
      if (request.method === "POST") {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => response.writeHead(200, { "Content-Length": String(Buffer.concat(chunks).length) }).end(Buffer.concat(chunks)));
      } else if (request.url === "/chunked") {
        response.writeHead(200);
        response.write("one,");
        setTimeout(() => response.end("two"), 20);
      } else {
        response.writeHead(204).end();
      }
    });
    exchange = new HttpExchange(url);
    const posted = await exchange.request("POST", "/hub?id=x", Buffer.from("héllo"));
    expect([posted.status, posted.body.toString()]).toEqual([200, "héllo"]);
    const chunked = await exchange.request("GET", "/chunked");
    expect([chunked.status, chunked.body.toString()]).toEqual([200, "one,two"]);
    const empty = await exchange.request("GET", "/hub?id=x");
    expect([empty.status, empty.body.length]).toEqual([204, 0]);
    expect(sockets.size).toBe(1);
  });

  it("sends a second request only after the first is answered, and fails both when the server goes", async () => {
    const seen: string[] = [];
    const url = await serve((request, response) => {
      seen.push(request.url!);
      if (request.url === "/slow") setTimeout(() => response.writeHead(200, { "Content-Length": "4" }).end("slow"), 30);
      else if (request.url === "/fast") response.writeHead(200, { "Content-Length": "4" }).end("fast");
      else request.socket.destroy();
    });
    exchange = new HttpExchange(url);
    const [slow, fast] = await Promise.all([exchange.request("GET", "/slow"), exchange.request("GET", "/fast")]);
    expect([slow.body.toString(), fast.body.toString(), seen]).toEqual(["slow", "fast", ["/slow", "/fast"]]);
    const dropped = exchange.request("GET", "/drop");
    const queued = exchange.request("GET", "/fast");
    await expect(dropped).rejects.toThrow("closed");
    await expect(queued).rejects.toThrow("closed");
  });

  it("fails a request whose answer has neither Content-Length nor chunks, instead of throwing from the socket", async () => {
    const url = await serve((request) => request.socket.end("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nno length"));
    exchange = new HttpExchange(url);
    await expect(exchange.request("GET", "/unframed")).rejects.toThrow("neither Content-Length nor chunks");
  });
});
