/**
 * The logging seam. By default the server logs to the console at `info` and above, as ASP.NET Core
 * does; `HUBWIRE_LOG` (`trace`, `debug`, `info`, `warn`, `error` or `silent`) or `DEBUG=hubwire:*`
 * changes that from the environment, and any logger (pino, winston) plugs in instead.
 * Hubwire never writes an access token or a connection token into a log line.
 *
 * @module
 * @example
 * ```ts
 * import { createHubServer, consoleLogger } from "@hubwire/server";
 *
 * createHubServer({ hubs: { "/chat": chat }, logger: consoleLogger("debug") });
 * ```
 */

/** Severity, least to most. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

const levelRank: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** Receives Hubwire's log lines. `fields` holds structured context (connectionId, hub, error). */
export interface Logger {
  log(level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void;
  /**
   * Whether lines at `level` are kept. Optional: without it every line is built and handed over.
   * With it, lines written once per call (each invocation at `debug`) cost nothing when dropped.
   */
  isEnabled?(level: LogLevel): boolean;
}

/** Drops everything. */
export const silentLogger: Logger = { log() {}, isEnabled: () => false };

/** Whether `logger` keeps lines at `level` (true when it does not say). */
export function isLevelEnabled(logger: Logger, level: LogLevel): boolean {
  return logger.isEnabled?.(level) ?? true;
}

/**
 * The level the environment asks for: `HUBWIRE_LOG` (`trace`, `debug`, `info`, `warn`, `error`,
 * `silent`), else `debug` when `DEBUG` names `hubwire` (`DEBUG=hubwire:*`, as socket.io users set
 * it), else `info`.
 *
 * @example
 * ```ts
 * // HUBWIRE_LOG=debug node server.js
 * levelFromEnvironment({ HUBWIRE_LOG: "debug" }); // "debug"
 * ```
 */
export function levelFromEnvironment(env: Readonly<Record<string, string | undefined>>): LogLevel | "silent" {
  const asked = env["HUBWIRE_LOG"]?.trim().toLowerCase();
  if (asked === "silent" || asked === "off" || asked === "none") return "silent";
  if (asked !== undefined && asked in levelRank) return asked as LogLevel;
  if (env["DEBUG"]?.split(/[\s,]+/).some((name) => name.startsWith("hubwire") || name === "*") === true) return "debug";
  return "info";
}

/**
 * The logger a server uses when it is given none: the console, at the level the environment asks
 * for ({@link levelFromEnvironment}).
 *
 * @example
 * ```ts
 * createHubServer({ hubs, logger: defaultLogger() }); // the same as leaving logger out
 * ```
 */
export function defaultLogger(env: Readonly<Record<string, string | undefined>> = process.env): Logger {
  const level = levelFromEnvironment(env);
  return level === "silent" ? silentLogger : consoleLogger(level);
}

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
    isEnabled: (level) => levelRank[level] >= levelRank[minimumLevel],
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
    ...(inner.isEnabled === undefined ? {} : { isEnabled: (level: LogLevel) => inner.isEnabled!(level) }),
    log(level, message, fields) {
      const safeFields = fields === undefined ? undefined : Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, redactValue(value)]));
      inner.log(level, redactSecrets(message), safeFields);
    },
  };
}
