/**
 * Runs in a real browser page (bundled by esbuild in the browser test): the client's scenarios
 * against the Hubwire test server the page came from, over one transport. Returns a report.
 */
import { HubConnection, HubError, type TransportName } from "../index.js";
import type { TestContract } from "./contract.js";

async function run(transport: TransportName): Promise<Record<string, unknown>> {
  const url = `${location.origin}/hub`;
  const open = async () => {
    const connection = new HubConnection<TestContract>(url, { transports: [transport], accessTokenFactory: () => "browser-token" });
    await connection.start();
    return connection;
  };
  const a = await open();
  const b = await open();
  const report: Record<string, unknown> = { transport: a.transport };
  report["results"] = [await a.invoke("add", 2, 3), await a.invoke("echo", { nested: [0, false, "", null] })];
  report["error"] = await a.invoke("fail", "from the browser").then(
    () => "no error",
    (error: unknown) => (error instanceof HubError ? error.message : `wrong type: ${String(error)}`),
  );
  const inboxB: string[] = [];
  b.on("receive", (text) => void inboxB.push(text));
  await b.invoke("join", "room");
  await a.invoke("toGroup", "room", "hello room");
  await a.invoke("toOthers", "hello others");
  const deadline = Date.now() + 5_000;
  while (inboxB.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  report["groupAndOthers"] = inboxB;
  const items: number[] = [];
  for await (const item of a.stream("counter", 4, 1)) items.push(item);
  report["stream"] = items;
  async function* upload() {
    for (let i = 1; i <= 10; i++) yield i;
  }
  report["upload"] = await a.invoke("sum", upload());
  a.on("question", (text) => `browser says ${text}`);
  report["clientResult"] = await a.invoke("ask", "hi");
  await a.stop();
  await b.stop();
  report["state"] = a.state;
  return report;
}

(window as unknown as { runScenarios: typeof run }).runScenarios = run;
