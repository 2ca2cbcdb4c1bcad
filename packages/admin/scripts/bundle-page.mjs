// Bundles the admin page's script (src/page/main.ts, using @hubwire/client) into dist/page/admin.js,
// which createAdmin serves beside the page.

import { fileURLToPath } from "node:url";
import { build } from "esbuild";

await build({
  entryPoints: [fileURLToPath(new URL("../src/page/main.ts", import.meta.url))],
  outfile: fileURLToPath(new URL("../dist/page/admin.js", import.meta.url)),
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  logLevel: "warning",
});
