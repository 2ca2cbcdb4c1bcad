/**
 * This machine's ceiling for HTTP long polling (issue 22): a parked GET answered by the next
 * POST, with `node:http` and nothing else, so that the long-polling table says how close a
 * framework comes to what Node's HTTP server can do. A connection is an id and a queue:
 *
 *   POST /open          200, the new connection's id as the body
 *   GET  /poll?id=<id>  parks until something was POSTed to the id, then 200 with all of it, in order
 *   POST /poll?id=<id>  hands the body to the parked GET (or queues it); 200 and empty, at once
 *
 * Bodies are echoed as they came: the load generator's records (`<slot>:<payload>` and 0x1E,
 * load/codecs.ts) are never parsed here. No poll timeout, limits or negotiation: what is left
 * out is what a framework adds.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { argument, serveParent } from "../server-process.js";

interface Connection {
  /** The GET waiting for something to deliver. */
  poll: ServerResponse | undefined;
  /** Bodies that came while no GET waited, oldest first. */
  queued: Buffer[];
}

const POLL_PATH = "/poll?id=";
const connections = new Map<string, Connection>();
let nextId = 0;

// The answers carry the headers Hubwire's long polling sends (the no-cache three, a type and a
// length), so that the two differ in the work behind their answers and not in their bytes.
function answerPoll(response: ServerResponse, body: Buffer): void {
  response
    .writeHead(200, {
      "Cache-Control": "no-cache, no-store",
      Pragma: "no-cache",
      Expires: "0",
      "Content-Type": "application/octet-stream",
      "Content-Length": String(body.length),
    })
    .end(body);
}

function answerPost(response: ServerResponse): void {
  response.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-cache, no-store", "Content-Length": "0" }).end();
}

function poll(connection: Connection, response: ServerResponse): void {
  if (connection.queued.length > 0) {
    const queued = connection.queued;
    connection.queued = [];
    answerPoll(response, queued.length === 1 ? queued[0]! : Buffer.concat(queued));
    return;
  }
  // A newer poll takes the place of one still waiting, which is answered empty.
  if (connection.poll !== undefined) answerPoll(connection.poll, Buffer.alloc(0));
  connection.poll = response;
}

function deliver(connection: Connection, body: Buffer): void {
  const waiting = connection.poll;
  connection.poll = undefined;
  // A poll whose client went away would take the body with it: keep the body for the next one.
  if (waiting === undefined || waiting.destroyed) connection.queued.push(body);
  else answerPoll(waiting, body);
}

function receive(connection: Connection, request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    if (chunks.length > 0) deliver(connection, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    answerPost(response);
  });
}

const server = createServer((request, response) => {
  const url = request.url ?? "";
  if (url.startsWith(POLL_PATH)) {
    const connection = connections.get(url.slice(POLL_PATH.length));
    if (connection === undefined) response.writeHead(404, { "Content-Length": "0" }).end();
    else if (request.method === "GET") poll(connection, response);
    else if (request.method === "POST") receive(connection, request, response);
    else response.writeHead(405, { "Content-Length": "0" }).end();
  } else if (url === "/open" && request.method === "POST") {
    const id = String(nextId++);
    connections.set(id, { poll: undefined, queued: [] });
    response.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": String(id.length) }).end(id);
  } else {
    response.writeHead(404, { "Content-Length": "0" }).end();
  }
});
server.listen(0, argument("host", "127.0.0.1"), () => {
  serveParent((server.address() as AddressInfo).port, async () => {
    server.closeAllConnections();
    server.close();
  });
});
