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
