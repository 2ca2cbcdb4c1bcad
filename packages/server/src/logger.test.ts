import { describe, expect, it } from "vitest";
import { defaultLogger, type Logger, type LogLevel, levelFromEnvironment, redactingLogger, redactSecrets, silentLogger } from "./logger.js";
import { eventually } from "./test-helpers/official-client.js";
import { RawHubSocket } from "./test-helpers/raw-client.js";
import { testHub } from "./test-helpers/test-hub.js";
import { startServer } from "./test-helpers/test-server.js";

describe("redactingLogger", () => {
  it("replaces access tokens, connection tokens and bearer credentials in messages, fields and errors", () => {
    const lines: Array<[LogLevel, string, Record<string, unknown> | undefined]> = [];
    const inner: Logger = { log: (level, message, fields) => void lines.push([level, message, fields as Record<string, unknown> | undefined]) };
    const thrown = new Error("auth failed for Bearer eyJ.secret.sig at /hub?id=tok123&access_token=abc");
    redactingLogger(inner).log("warn", "GET /hub?id=tok123&access_token=abc", { error: thrown, header: "Bearer eyJ.secret.sig", count: 3 });
    const [[level, message, fields]] = lines as [[LogLevel, string, Record<string, unknown>]];
    expect(level).toBe("warn");
    expect(message).toBe("GET /hub?id=[redacted]&access_token=[redacted]");
    expect(fields["header"]).toBe("Bearer [redacted]");
    expect(fields["count"]).toBe(3);
    expect((fields["error"] as Error).message).toBe("auth failed for Bearer [redacted] at /hub?id=[redacted]&access_token=[redacted]");
    expect(JSON.stringify(lines) + String((fields["error"] as Error).stack)).not.toMatch(/tok123|eyJ|abc/);
    // The app's own error object is left as it was.
    expect(thrown.message).toContain("eyJ.secret.sig");
  });

  it("leaves text without secrets alone, and the silent logger as it is", () => {
    expect(redactSecrets("connection 42 closed: identity=x")).toBe("connection 42 closed: identity=x");
    expect(redactingLogger(silentLogger)).toBe(silentLogger);
  });
});

describe("the default logger", () => {
  it("reads its level from HUBWIRE_LOG, or DEBUG=hubwire:* as socket.io users set it, else info", () => {
    expect(levelFromEnvironment({})).toBe("info");
    expect(levelFromEnvironment({ HUBWIRE_LOG: "debug" })).toBe("debug");
    expect(levelFromEnvironment({ HUBWIRE_LOG: " WARN " })).toBe("warn");
    expect(levelFromEnvironment({ HUBWIRE_LOG: "silent" })).toBe("silent");
    expect(levelFromEnvironment({ HUBWIRE_LOG: "loud" })).toBe("info");
    expect(levelFromEnvironment({ DEBUG: "express:*,hubwire:*" })).toBe("debug");
    expect(levelFromEnvironment({ DEBUG: "express:*" })).toBe("info");
    expect(defaultLogger({ HUBWIRE_LOG: "silent" })).toBe(silentLogger);
    const info = defaultLogger({});
    expect([info.isEnabled?.("debug"), info.isEnabled?.("info"), info.isEnabled?.("error")]).toEqual([false, true, true]);
  });
});

describe("what a server logs", () => {
  it("starts and shuts down with a line; at debug, each connect, invocation and disconnect, with hub, method and connection", async () => {
    const lines: Array<{ level: LogLevel; message: string; fields: Record<string, unknown> }> = [];
    const logger: Logger = { log: (level, message, fields) => void lines.push({ level, message, fields: { ...fields } }) };
    const server = await startServer({ hubs: { "/hub": testHub }, logger });
    const socket = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub`);
    socket.send('{"protocol":"json","version":1}\u001e');
    socket.send('{"type":1,"invocationId":"1","target":"echo","arguments":["x"]}\u001e');
    await eventually(() => socket.records.length === 2, 5_000, "the answer");
    socket.close();
    // The raw socket is cut without a close frame (1006): the end is an error, logged as a warning.
    await eventually(() => lines.some((line) => line.message === "A connection closed with an error."), 5_000, "the disconnect");
    await server.close();
    const messages = lines.map((line) => line.message);
    expect(messages[0]).toBe("Hubwire is serving.");
    expect(lines[0]!.fields["paths"]).toEqual(["/hub"]);
    expect(messages).toContain("A connection connected.");
    const connectionId = lines.find((line) => line.message === "A connection connected.")!.fields["connectionId"];
    expect(lines.find((line) => line.message === "Invoking a hub method.")).toMatchObject({
      level: "debug",
      fields: { hub: "/hub", method: "echo", invocationId: "1", connectionId },
    });
    expect(lines.find((line) => line.message === "A connection closed with an error.")).toMatchObject({ level: "warn", fields: { hub: "/hub", connectionId } });
    expect(messages.slice(-2)).toEqual(["Hubwire is shutting down.", "Hubwire has shut down."]);
  });

  it("builds no per-invocation line when debug is off", async () => {
    let asked = 0;
    const logger: Logger = { log: () => void asked++, isEnabled: (level) => level !== "debug" && level !== "trace" };
    const server = await startServer({ hubs: { "/hub": testHub }, logger });
    const socket = await RawHubSocket.open(`ws://127.0.0.1:${server.port}/hub`);
    socket.send('{"protocol":"json","version":1}\u001e');
    await eventually(() => socket.records.length === 1, 5_000, "the handshake");
    const before = asked;
    for (let id = 0; id < 20; id++) socket.send(`{"type":1,"invocationId":"${id}","target":"echo","arguments":[${id}]}\u001e`);
    await eventually(() => socket.records.length === 21, 5_000, "the answers");
    expect(asked - before).toBe(0);
    socket.close();
    await server.close();
  });
});
