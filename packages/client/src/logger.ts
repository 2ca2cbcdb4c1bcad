/**
 * The client's optional logger: silent unless the app passes one (`console` works).
 *
 * @module
 */

/** Anything with these methods (`console` included). */
export interface Logger {
  debug(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
}

/** Drops everything; the default. */
export const silentLogger: Logger = { debug() {}, warn() {} };
