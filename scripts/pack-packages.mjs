#!/usr/bin/env node
// `npm run pack:local`: builds the published packages and packs each as npm would publish it,
// into packed/ (or the folder given as the first argument), so that a project outside this
// repository can install them before they are on the registry:
//   npm install /path/to/hubwire/packed/*.tgz
// docs/getting-started.md uses it, and packages/e2e/src/getting-started.test.ts runs that guide.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const published = ["protocol", "protocol-msgpack", "server", "redis", "client", "admin", "socket.io"];
const destination = resolve(process.argv[2] ?? join(root, "packed"));
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" };

execFileSync("npx", ["turbo", "run", "build", ...published.map((name) => `--filter=@hubwire/${name}`), "--output-logs=errors-only"], {
  cwd: root,
  stdio: ["ignore", "ignore", "inherit"],
  env,
});
// Old tarballs would be installed beside the new ones by a glob.
rmSync(destination, { recursive: true, force: true });
mkdirSync(destination, { recursive: true });
for (const name of published) {
  execFileSync("npm", ["pack", "--silent", "--pack-destination", destination], {
    cwd: join(root, "packages", name),
    stdio: ["ignore", "ignore", "inherit"],
    env,
  });
}
const tarballs = readdirSync(destination).filter((file) => file.endsWith(".tgz"));
console.log(`Packed ${tarballs.length} packages into ${destination}:`);
for (const tarball of tarballs) console.log(`  ${tarball}`);
console.log(`Install them in your project with: npm install ${destination}/*.tgz`);
