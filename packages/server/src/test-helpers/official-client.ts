/**
 * Connects the official `@microsoft/signalr` client (JSON or MessagePack) to a test server, with
 * a logger that collects errors so that a suite can fail on unexpected ones (as SignalR's own
 * `VerifyLogger` does).
 */
import {
  HttpTransportType,
  HubConnectionBuilder,
  type IHttpConnectionOptions,
  type ILogger,
  LogLevel,
  type HubConnection as OfficialHubConnection,
} from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";

export type ProtocolChoice = "json" | "messagepack";

export class CollectingLogger implements ILogger {
  readonly errors: string[] = [];
  log(level: LogLevel, message: string): void {
    if (level >= LogLevel.Error) this.errors.push(message);
  }
}

export interface OfficialClientOptions extends IHttpConnectionOptions {
  readonly reconnectDelaysMs?: number[];
  readonly statefulReconnect?: boolean;
}

export function buildOfficialClient(url: string, protocol: ProtocolChoice, options: OfficialClientOptions = {}) {
  const logger = new CollectingLogger();
  const { reconnectDelaysMs, statefulReconnect, ...http } = options;
  let builder = new HubConnectionBuilder().withUrl(url, { transport: HttpTransportType.WebSockets, ...http }).configureLogging(logger);
  if (protocol === "messagepack") builder = builder.withHubProtocol(new MessagePackHubProtocol());
  if (reconnectDelaysMs !== undefined) builder = builder.withAutomaticReconnect(reconnectDelaysMs);
  if (statefulReconnect === true) builder = builder.withStatefulReconnect();
  const connection: OfficialHubConnection = builder.build();
  return { connection, logger };
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
export async function eventually(predicate: () => boolean, timeoutMs = 5_000, what = "a condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
