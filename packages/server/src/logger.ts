/**
 * The logging seam: silent by default, any logger (console, pino, winston) plugs in.
 * Hubwire never writes an access token or a connection token into a log line.
 *
 * @module
 * @example
 * ```ts
 * import { createHubServer, consoleLogger } from "@hubwire/server";
 *
 * createHubServer({ hubs: { "/chat": chat }, logger: consoleLogger("info") });
 * ```
 */

/** Severity, least to most. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

const levelRank: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** Receives Hubwire's log lines. `fields` holds structured context (connectionId, hub, error). */
export interface Logger {
  log(level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** Drops everything. The default. */
export const silentLogger: Logger = { log() {} };

/**
 * Writes lines at `minimumLevel` and above to the console.
 *
 * @example
 * ```ts
 * const logger = consoleLogger("debug");
 * ```
 */
export function consoleLogger(minimumLevel: LogLevel = "info"): Logger {
  return {
    log(level, message, fields) {
      if (levelRank[level] < levelRank[minimumLevel]) return;
      const line = `[hubwire] ${level}: ${message}`;
      const write = level === "error" ? console.error : level === "warn" ? console.warn : console.log;
      if (fields === undefined) write(line);
      else write(line, fields);
    },
  };
}

/** What secrets look like wherever text can carry them: query parameters and Authorization values. */
const secretPatterns: ReadonlyArray<[RegExp, string]> = [
  [/([?&](?:access_token|id)=)[^&\s"']+/gi, "$1[redacted]"],
  [/(\bBearer\s+)[^\s"',]+/gi, "$1[redacted]"],
];

/** `text` with access tokens, connection tokens (`id=`) and bearer credentials replaced by `[redacted]`. */
export function redactSecrets(text: string): string {
  let redacted = text;
  for (const [pattern, replacement] of secretPatterns) redacted = redacted.replace(pattern, replacement);
  return redacted;
}

function redactValue(value: unknown): unknown {
  if (typeof value === "string") return redactSecrets(value);
  if (value instanceof Error) {
    // A copy: the error may be the app's own object, still in use elsewhere.
    const copy = new Error(redactSecrets(value.message));
    copy.name = value.name;
    copy.stack = value.stack === undefined ? undefined : redactSecrets(value.stack);
    return copy;
  }
  return value;
}

/**
 * Wraps a logger so no line carries a token: the hub server puts every logger it is given behind
 * this, since an app's `authenticate` error or a request URL can hold one.
 *
 * @example
 * ```ts
 * const logger = redactingLogger(consoleLogger("debug"));
 * logger.log("warn", "refused ws://host/hub?id=abc&access_token=secret"); // ...?id=[redacted]&access_token=[redacted]
 * ```
 */
export function redactingLogger(inner: Logger): Logger {
  if (inner === silentLogger) return inner;
  return {
    log(level, message, fields) {
      const safeFields = fields === undefined ? undefined : Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, redactValue(value)]));
      inner.log(level, redactSecrets(message), safeFields);
    },
  };
}
