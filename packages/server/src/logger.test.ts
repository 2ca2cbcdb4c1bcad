import { describe, expect, it } from "vitest";
import { redactingLogger, redactSecrets, silentLogger, type Logger, type LogLevel } from "./logger.js";

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
