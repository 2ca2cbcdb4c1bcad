#!/usr/bin/env node
// Writes docs/client-size.md: min and min+gzip of the browser bundles, ours beside the peers'.
// Run with `npm run size -w @hubwire/client` after `npm run build`. With --json it prints the
// measurements as JSON instead and writes nothing (apps/bench reads them that way).
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { measure, subjects } from "./bundle-size.mjs";

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const rows = [];
for (const [name, source] of Object.entries(subjects)) {
  const { minBytes, gzipBytes, modules } = await measure(source);
  rows.push({ name, minBytes, gzipBytes, modules });
}
if (process.argv.includes("--json")) {
  console.log(JSON.stringify(rows.map(({ modules: _modules, ...row }) => row)));
  process.exit(0);
}
for (const row of rows) console.log(`${row.name}: ${kb(row.minBytes)} min, ${kb(row.gzipBytes)} min+gzip`);
const base = rows[0];
const addon = (name) => kb(rows.find((row) => row.name.endsWith(name)).gzipBytes - base.gzipBytes);
const lines = [
  "# Client bundle sizes",
  "",
  "Browser bundles built the same way for every client: esbuild, ESM, minified, `platform: browser`,",
  "`target: es2022`, then gzip level 9. Each imports only its connection entry point, so unused",
  "exports are left out. Produced by `npm run build && npm run size -w @hubwire/client`",
  "(`packages/client/scripts/size-report.mjs`); `packages/client/src/bundle-size.test.ts` holds the",
  "JSON client to the goal in CI: at most 7 KB min+gzip for the JSON client with all transports.",
  "",
  "| bundle | min | min+gzip |",
  "|---|---|---|",
  ...rows.map((row) => `| ${row.name} | ${kb(row.minBytes)} | ${kb(row.gzipBytes)} |`),
  "",
  `Two parts are add-ons with entry points of their own, so an app that does not use them never loads them:`,
  `the MessagePack protocol (\`@hubwire/client/msgpack\`, which brings \`@msgpack/msgpack\`) adds ${addon("/msgpack")} min+gzip,`,
  `and stateful reconnect (\`@hubwire/client/stateful-reconnect\`, its replay buffer) adds ${addon("/stateful-reconnect")}.`,
  "",
  "The JSON client reads with a protocol of its own (`packages/client/src/json-protocol.ts`): it checks the",
  "fields it acts on and reads messages of any size, as the official client does, where the server's",
  "`JsonHubProtocol` checks every field of every message and caps their size against untrusted clients.",
  "",
  "## Where the JSON client's bytes go",
  "",
  "Minified bytes each source module puts into the JSON client's bundle (esbuild's metafile), before gzip.",
  "",
  "| module | min bytes | share |",
  "|---|---|---|",
  ...base.modules.map(
    (module) => `| \`${module.path}\` | ${module.minBytes.toLocaleString("en-US")} | ${((100 * module.minBytes) / base.minBytes).toFixed(0)}% |`,
  ),
  "",
];
writeFileSync(fileURLToPath(new URL("../../../docs/client-size.md", import.meta.url)), lines.join("\n"));
