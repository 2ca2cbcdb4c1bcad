import type { IncomingMessage } from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./test-helpers/official-client.js";
import { RawHubSocket } from "./test-helpers/raw-client.js";
import { testHub } from "./test-helpers/test-hub.js";
import { type RunningServer, startServer } from "./test-helpers/test-server.js";

// What an idle connection keeps decides how many one process holds (apps/bench measures it);
// these pin the leaks that were found there.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

async function collect(): Promise<void> {
  for (let round = 0; round < 3; round++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("an open WebSocket connection's memory", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ hubs: { "/hub": testHub } });
  });
  afterAll(() => server.close());

  it("does not keep the upgrade request (only the headers it describes)", async () => {
    let upgrade: WeakRef<IncomingMessage> | undefined;
    server.server.prependOnceListener("upgrade", (request: IncomingMessage) => (upgrade = new WeakRef(request)));
    const socket = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub`);
    socket.send('{"protocol":"json","version":1}\u001e');
    await eventually(() => socket.frames.length === 1, 5_000, "the handshake answer");
    socket.send('{"type":1,"invocationId":"1","target":"whoAmI","arguments":[]}\u001e');
    await eventually(() => socket.records.length === 2, 5_000, "the answer to a call");
    // The headers kept are the ones an app may use, not those that only served the handshake.
    const { headerNames } = (socket.records[1] as { result: { headerNames: string[] } }).result;
    expect(headerNames).toContain("host");
    for (const handshakeOnly of ["connection", "upgrade", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions"]) {
      expect(headerNames).not.toContain(handshakeOnly);
    }
    await collect();
    expect(upgrade?.deref()).toBeUndefined();
    // Still open and working after the request is gone.
    socket.send('{"type":1,"invocationId":"2","target":"add","arguments":[2,3]}\u001e');
    await eventually(() => socket.records.length === 3, 5_000, "a second answer");
    expect(socket.records[2]).toEqual({ type: 3, invocationId: "2", result: 5 });
    socket.close();
  });
});
