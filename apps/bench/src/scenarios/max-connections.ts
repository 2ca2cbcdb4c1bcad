/**
 * (7) The most idle connections one Hubwire process holds here: connections opened from several
 * 127.0.0.x source addresses (each has its own ephemeral port range), kept alive, then counted.
 */
import { fileLimit, LoadProcess } from "../child-processes.js";
import type { Section } from "../report.js";
import { log, withServers } from "../runs.js";
import type { Settings } from "../settings.js";
import { systems } from "../systems.js";

export async function maxConnectionsScenario(settings: Settings): Promise<Section[]> {
  const { sourceAddresses } = settings.maxConnections;
  // One socket is one file: past the machine's hard limit no process can hold more, whatever it is.
  const target = Math.min(settings.maxConnections.target, fileLimit - 200);
  const cappedNote =
    target < settings.maxConnections.target
      ? ` The goal asks ${settings.maxConnections.target.toLocaleString("en-US")}; this machine's hard open-files limit (RLIMIT_NOFILE ${fileLimit.toLocaleString("en-US")}, which this sandbox does not let even root raise) caps any one process below that, so the target here is ${target.toLocaleString("en-US")}.`
      : "";
  const system = systems.hubwireJson;
  const maxFiles = target + 10_000;
  const load = LoadProcess.start(maxFiles);
  log(`max connections: up to ${target} to one Hubwire process`);
  try {
    return await withServers(
      [system.server],
      async ([server]) => {
        const before = await server!.stats(true);
        const started = performance.now();
        const localAddresses = Array.from({ length: sourceAddresses }, (_, index) => `127.0.0.${index + 2}`);
        const opened = await load.run(
          { type: "open", wire: system.wire, urls: [server!.url], count: target, payloadBytes: 32, localAddresses, concurrency: 128 },
          "opened",
        );
        const openSeconds = (performance.now() - started) / 1000;
        // Held, not just opened: past a keep-alive round (client pings every 10 s, server every 15 s).
        await new Promise((resolve) => setTimeout(resolve, settings.quick ? 500 : 35_000));
        const status = await load.run({ type: "status" }, "status");
        const after = await server!.stats(true);
        await load.run({ type: "close" }, "closed");
        const held = status.open;
        log(
          `  opened ${opened.count} (${opened.failed} failed) in ${openSeconds.toFixed(1)} s; ${held} still open after idling; RSS ${((after.rssBytes - before.rssBytes) / 2 ** 20).toFixed(0)} MiB more`,
        );
        return [
          {
            title: `Idle connections held by one process (target ${target.toLocaleString("en-US")})`,
            intro: `One Hubwire process (JSON over WebSockets), connections opened ${128} at a time from ${sourceAddresses} source addresses, then left idle through a keep-alive round before counting.${cappedNote}`,
            head: ["system", "opened", "failed to open", "still open after idling", "seconds to open all", "server RSS added"],
            rows: [
              [
                system.name,
                opened.count.toLocaleString("en-US"),
                String(opened.failed),
                held.toLocaleString("en-US"),
                openSeconds.toFixed(1),
                `${((after.rssBytes - before.rssBytes) / 2 ** 20).toFixed(0)} MiB`,
              ],
            ],
            goals: [{ text: "idle connections held by one Hubwire process", measured: held, atLeast: settings.maxConnections.target, unit: "" }],
          },
        ];
      },
      maxFiles,
    );
  } finally {
    await load.stop();
  }
}
