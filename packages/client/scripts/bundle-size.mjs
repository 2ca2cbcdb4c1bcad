// Measures browser bundles the same way for every client: esbuild, ESM, minified, for browsers,
// then gzip at level 9. Used by size-report.mjs (docs/client-size.md) and by the size test.

import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

/**
 * Bundles `source` (an ES module's text) and returns its sizes and code, and how many minified
 * bytes each module put into the bundle (`modules`, largest first, paths from the repository).
 */
export async function measure(source) {
  const result = await build({
    stdin: { contents: source, resolveDir: packageDir, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const code = result.outputFiles[0].contents;
  const inputs = Object.values(result.metafile.outputs)[0].inputs;
  const modules = Object.entries(inputs)
    .map(([path, input]) => ({ path: sourceOf(path), minBytes: input.bytesInOutput }))
    .filter((module) => module.minBytes > 0)
    .sort((a, b) => b.minBytes - a.minBytes);
  return { minBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length, code: Buffer.from(code).toString("utf8"), modules };
}

/** A bundled file as the source it was built from: `../protocol/dist/x.js` -> `packages/protocol/src/x.ts`. */
function sourceOf(path) {
  const built = /^(?:\.\.\/([\w-]+)\/)?dist\/(.+)\.js$/.exec(path);
  return built === null ? path.replace(/^(\.\.\/)+/, "") : `packages/${built[1] ?? "client"}/src/${built[2]}.ts`;
}

/** The bundles the report compares. */
export const subjects = {
  "@hubwire/client (JSON, all transports)": 'export { HubConnection } from "@hubwire/client";',
  "@hubwire/client + @hubwire/client/msgpack":
    'export { HubConnection } from "@hubwire/client"; export { MessagePackHubProtocol } from "@hubwire/client/msgpack";',
  "@hubwire/client + @hubwire/client/stateful-reconnect":
    'export { HubConnection } from "@hubwire/client"; export { statefulReconnect } from "@hubwire/client/stateful-reconnect";',
  "@microsoft/signalr (JSON, all transports)": 'export { HubConnectionBuilder } from "@microsoft/signalr";',
  "@microsoft/signalr + @microsoft/signalr-protocol-msgpack":
    'export { HubConnectionBuilder } from "@microsoft/signalr"; export { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";',
  "socket.io-client": 'export { io } from "socket.io-client";',
};
