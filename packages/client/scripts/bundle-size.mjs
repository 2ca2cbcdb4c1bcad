// Measures browser bundles the same way for every client: esbuild, ESM, minified, for browsers,
// then gzip at level 9. Used by size-report.mjs (docs/client-size.md) and by the size test.
import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

/** Bundles `source` (an ES module's text) and returns its sizes and code. */
export async function measure(source) {
  const result = await build({
    stdin: { contents: source, resolveDir: packageDir, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const code = result.outputFiles[0].contents;
  return { minBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length, code: Buffer.from(code).toString("utf8") };
}

/** The bundles the report compares. */
export const subjects = {
  "@hubwire/client (JSON, all transports)": 'export { HubConnection } from "@hubwire/client";',
  "@hubwire/client + @hubwire/client/msgpack": 'export { HubConnection } from "@hubwire/client"; export { MessagePackHubProtocol } from "@hubwire/client/msgpack";',
  "@microsoft/signalr (JSON, all transports)": 'export { HubConnectionBuilder } from "@microsoft/signalr";',
  "@microsoft/signalr + @microsoft/signalr-protocol-msgpack":
    'export { HubConnectionBuilder } from "@microsoft/signalr"; export { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";',
  "socket.io-client": 'export { io } from "socket.io-client";',
};
