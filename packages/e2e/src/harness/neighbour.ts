/**
 * The healthy neighbour every bad-input test keeps: an official SignalR client on the same server
 * that must go on answering, so an attack that hurts other connections fails the test.
 */
import { HttpTransportType, type HubConnection, HubConnectionBuilder, LogLevel } from "@microsoft/signalr";

export interface Neighbour {
  readonly connection: HubConnection;
  /** Throws unless a round trip on the neighbour still works. */
  check(): Promise<void>;
  stop(): Promise<void>;
}

export async function openNeighbour(url: string): Promise<Neighbour> {
  const connection = new HubConnectionBuilder().withUrl(url, { transport: HttpTransportType.WebSockets }).configureLogging(LogLevel.None).build();
  // Pings often enough for the short client timeouts the suites configure.
  connection.keepAliveIntervalInMilliseconds = 500;
  await connection.start();
  let round = 0;
  return {
    connection,
    async check() {
      const value = `still here ${round++}`;
      const answer = await connection.invoke("echo", value);
      if (answer !== value) throw new Error(`The neighbour got '${String(answer)}' back instead of '${value}'.`);
    },
    stop: () => connection.stop(),
  };
}
