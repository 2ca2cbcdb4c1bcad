/** (6) Client bundle sizes, from the client package's own size script (deterministic: measured once). */
import { execFileSync } from "node:child_process";
import type { Section } from "../report.js";
import { log } from "../runs.js";

interface BundleSize {
  readonly name: string;
  readonly minBytes: number;
  readonly gzipBytes: number;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

export function bundleSizeScenario(): Section[] {
  log("bundle sizes");
  const output = execFileSync("npm", ["run", "--silent", "size", "-w", "@hubwire/client", "--", "--json"], { encoding: "utf8" });
  const sizes = JSON.parse(output) as BundleSize[];
  const ours = sizes.find((size) => size.name.startsWith("@hubwire/client (JSON"));
  if (ours === undefined) throw new Error(`The size script did not measure the JSON client: ${output}`);
  return [
    {
      title: "Client bundle sizes",
      intro:
        "esbuild, ESM, minified, for the browser, then gzip -9; each bundle imports only its connection entry point. Details in [client-size.md](client-size.md).",
      head: ["bundle", "min", "min+gzip"],
      rows: sizes.map((size) => [size.name, kb(size.minBytes), kb(size.gzipBytes)]),
      goals: [{ text: "JSON client bundle: KB min+gzip under 7 KB (7 - size)", measured: 7 - ours.gzipBytes / 1024, atLeast: 0, unit: " KB" }],
    },
  ];
}
