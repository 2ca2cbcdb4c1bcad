#!/usr/bin/env node
/**
 * A SignalR client written exactly as the ASP.NET Core docs write one (the JavaScript client
 * tutorial and the streaming article), pointed at a Hubwire hub. Nothing in it knows the server
 * is not ASP.NET Core. Usage: node dist/client.js [hub URL, default http://localhost:5000/chatHub]
 */
import * as signalR from "@microsoft/signalr";

const url = process.argv[2] ?? "http://localhost:5000/chatHub";

const connection = new signalR.HubConnectionBuilder().withUrl(url).withAutomaticReconnect().configureLogging(signalR.LogLevel.Information).build();

const messages: string[] = [];
connection.on("ReceiveMessage", (user: string, message: string) => {
  console.log(`ReceiveMessage: ${user} says ${message}`);
  messages.push(message);
});
connection.onreconnecting((error) => console.log(`Reconnecting${error === undefined ? "" : `: ${error.message}`}`));
const reconnected = new Promise<void>((resolve) =>
  connection.onreconnected((connectionId) => {
    console.log(`Reconnected: ${connectionId}`);
    resolve();
  }),
);
connection.onclose((error) => console.log(`Closed${error === undefined ? "" : `: ${error.message}`}`));

async function main(): Promise<void> {
  await connection.start();
  console.log(`Connected: ${connection.connectionId}`);

  // invoke: a call with a result.
  const sum = await connection.invoke<number>("Add", 2, 3);
  console.log(`Add(2, 3) = ${sum}`);

  // send: fire-and-forget; the hub answers everyone, this client included, through ReceiveMessage.
  await connection.send("SendMessage", "dotnet-style", "hello from @microsoft/signalr");
  while (messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));

  // A HubException thrown by the hub reaches the caller with its message.
  try {
    await connection.invoke("SendMessage", "dotnet-style", " ");
  } catch (error) {
    console.log(`SendMessage failed: ${(error as Error).message}`);
  }

  // stream: server to client, consumed through subscribe() as in the streaming article.
  const counted: number[] = [];
  await new Promise<void>((resolve, reject) => {
    connection.stream<number>("Counter", 5, 20).subscribe({
      next: (item) => counted.push(item),
      complete: () => resolve(),
      error: (error) => reject(error),
    });
  });
  console.log(`Counter: ${counted.join(" ")}`);

  // An upload stream: client to server through a Subject.
  const subject = new signalR.Subject<string>();
  const uploaded = connection.invoke<number>("UploadStream", subject);
  for (const line of ["first", "second", "third"]) subject.next(line);
  subject.complete();
  console.log(`UploadStream: the hub read ${await uploaded} items`);

  // withAutomaticReconnect(): the connection comes back (a new connection id) after a drop.
  await connection.send("SimulateDrop");
  await reconnected;
  console.log(`Add(20, 22) after reconnecting = ${await connection.invoke<number>("Add", 20, 22)}`);

  await connection.stop();
}

main().catch((error: unknown) => {
  console.error(`Failed: ${(error as Error).message}`);
  process.exitCode = 1;
  void connection.stop();
});
