/**
 * The floor for a JSON hub on `ws` (issue #22): the least any server does that answers SignalR
 * JSON calls over `ws`, with no hub behind it. Each text message is decoded, split into records,
 * each record `JSON.parse`d, and an `echo` Invocation answered with a Completion written as a
 * template, its strings checked for what JSON would escape the way Hubwire's writer checks them
 * (protocol `json-string.ts`). No negotiate, no checks, no dispatch, no batching, no timeouts:
 * raw ws echoes bytes, this adds what being JSON RPC costs, and a hub adds the rest. Anything but
 * the handshake, an `echo` or a ping closes the connection with a SignalR Close naming it, so
 * that a load it does not speak fails loudly rather than measuring nothing.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type RawData, WebSocketServer } from "ws";
import { argument, serveParent } from "../server-process.js";

const RS = "\u001e";
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON escapes.
const escapedByJson = /[\u0000-\u001f"\\\ud800-\udfff]/;
const jsonString = (text: string) => (escapedByJson.test(text) ? JSON.stringify(text) : `"${text}"`);

interface Call {
  readonly type?: unknown;
  readonly invocationId?: unknown;
  readonly target?: unknown;
  readonly arguments?: unknown;
}

/** The answer to one call after the handshake; undefined for what this server does not answer. */
function answer(call: Call): string | undefined {
  if (call.type === 6) return "";
  if (call.type === 1 && call.target === "echo" && typeof call.invocationId === "string" && Array.isArray(call.arguments)) {
    const [payload] = call.arguments as unknown[];
    if (typeof payload === "string") return `{"type":3,"invocationId":${jsonString(call.invocationId)},"result":${jsonString(payload)}}${RS}`;
  }
  return undefined;
}

/** The answer to one record: the handshake's, a call's, or undefined (not JSON, or not a call it answers). */
function answerRecord(record: string, handshaken: boolean): string | undefined {
  let call: Call;
  try {
    call = JSON.parse(record) as Call;
  } catch {
    return undefined;
  }
  return handshaken ? answer(call) : `{}${RS}`;
}

const server = createServer((_request, response) => response.writeHead(404).end());
const sockets = new WebSocketServer({ server, path: "/hub" });

sockets.on("connection", (socket) => {
  let handshaken = false;
  socket.on("message", (data: RawData) => {
    if (socket.readyState !== socket.OPEN) return;
    let out = "";
    for (const record of data.toString().split(RS)) {
      if (record === "") continue;
      const reply = answerRecord(record, handshaken);
      if (reply === undefined) {
        const reason = `The floor server answers only echo calls with a string, not ${record.slice(0, 200)}.`;
        socket.send(`${out}{"type":7,"error":${JSON.stringify(reason)}}${RS}`);
        socket.close(1000);
        return;
      }
      handshaken = true;
      out += reply;
    }
    if (out !== "") socket.send(out);
  });
});
server.listen(0, argument("host", "127.0.0.1"), () => {
  serveParent((server.address() as AddressInfo).port, async () => {
    sockets.close();
    server.closeAllConnections();
  });
});
