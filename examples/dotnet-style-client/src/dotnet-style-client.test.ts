/**
 * Runs the client script (src/client.ts, built) as its own process against the hub, as a
 * developer runs it, and reads what it printed: its own lines, and the SignalR client's log.
 */
import { execFileSync, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHub, startHubServer } from "./hub-server.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

let hub: RunningHub;
beforeAll(async () => {
  // The script runs from the build, as `npm run client` runs it; build it if this run has not.
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: packageDir });
  hub = await startHubServer({ port: 0 });
});
afterAll(() => hub?.close());

function runClient(url: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["dist/client.js", url], { cwd: packageDir, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill(), reject(new Error(`The client did not finish within 15 s:\n${stdout}\n${stderr}`))), 15_000);
    child.once("exit", (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
}

describe("the .NET-style client script (@microsoft/signalr) against a Hubwire hub", () => {
  it("connects, invokes, sends, receives, streams both ways, sees a hub error, reconnects automatically after a drop and stops", async () => {
    const { code, stdout, stderr } = await runClient(hub.url);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    // The script's own lines, in order (the logger's lines start with a timestamp in brackets).
    const own = lines.filter((line) => !line.startsWith("["));
    const id = /^[A-Za-z0-9_-]{22}$/;
    expect(own).toEqual([
      expect.stringMatching(/^Connected: /),
      "Add(2, 3) = 5",
      "ReceiveMessage: dotnet-style says hello from @microsoft/signalr",
      // ASP.NET Core names the method as the client spelled it ('SendMessage'); Hubwire, as the hub declares it.
      expect.stringMatching(
        /^SendMessage failed: An unexpected error occurred invoking '(sendMessage|SendMessage)' on the server\. HubException: Message is empty\.$/,
      ),
      "Counter: 0 1 2 3 4",
      "UploadStream: the hub read 3 items",
      "Reconnecting",
      expect.stringMatching(/^Reconnected: /),
      "Add(20, 22) after reconnecting = 42",
      "Closed",
    ]);
    const connectedId = own[0]!.slice("Connected: ".length);
    const reconnectedId = own[7]!.slice("Reconnected: ".length);
    expect(connectedId).toMatch(id);
    expect(reconnectedId).toMatch(id);
    expect(reconnectedId).not.toBe(connectedId);

    // The SignalR client's own log (configureLogging(LogLevel.Information)): it negotiated, chose
    // WebSockets and JSON, and said nothing at Warning or above (those would go to stderr).
    const log = lines.filter((line) => line.startsWith("["));
    const wsUrl = `${hub.url.replace("http", "ws")}?id=`;
    expect(log.filter((line) => line.includes(`Information: WebSocket connected to ${wsUrl}`))).toHaveLength(2);
    expect(log.filter((line) => line.endsWith("Information: Using HubProtocol 'json'."))).toHaveLength(2);
    expect(log.some((line) => line.endsWith("Information: HubConnection reconnected successfully."))).toBe(true);
  });

  it("fails with the client's own words, and exit code 1, when nothing serves the hub's URL", async () => {
    const { code, stderr } = await runClient(hub.url.replace("/chatHub", "/noSuchHub"));
    expect(code).toBe(1);
    expect(stderr).toContain("Failed: Failed to complete negotiation with the server: Error: Not Found: Status code '404'");
  });
});
