// Bundles the chat page's script (src/page/main.ts, using @hubwire/client) into dist/public/app.js.

import { fileURLToPath } from "node:url";
import { build } from "esbuild";

await build({
  entryPoints: [fileURLToPath(new URL("../src/page/main.ts", import.meta.url))],
  outfile: fileURLToPath(new URL("../dist/public/app.js", import.meta.url)),
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  logLevel: "warning",
});
