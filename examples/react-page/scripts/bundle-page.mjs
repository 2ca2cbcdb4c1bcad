// Bundles the page (src/page/main.tsx: React, react-dom and @hubwire/client) into dist/public/app.js.
// `--development` keeps React's development build (StrictMode's double effects, its warnings);
// `--outfile <path>` writes elsewhere.

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const { values } = parseArgs({ options: { development: { type: "boolean", default: false }, outfile: { type: "string" } } });

await build({
  entryPoints: [fileURLToPath(new URL("../src/page/main.tsx", import.meta.url))],
  outfile: values.outfile ?? fileURLToPath(new URL("../dist/public/app.js", import.meta.url)),
  bundle: true,
  minify: !values.development,
  format: "esm",
  platform: "browser",
  target: "es2022",
  jsx: "automatic",
  // React picks its production or development build from this.
  define: { "process.env.NODE_ENV": JSON.stringify(values.development ? "development" : "production") },
  logLevel: "warning",
});
