/**
 * The packages as npm would publish them: packed with `npm pack`, installed from the tarballs
 * into a project outside the monorepo (no workspace links, no hoisted devDependencies), then an
 * application compiled against them with strict TypeScript, library checks on, and run over
 * Redis. It fails on what only the published shape can get wrong: a file left out of `files`, an
 * `exports` entry pointing nowhere, a runtime import declared only as a devDependency, a type
 * that names an unpublished package.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { RedisProcess } from "@hubwire/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const packagesDir = fileURLToPath(new URL("../../", import.meta.url));
const fixture = fileURLToPath(new URL("../fixtures/packaged-app/", import.meta.url));
const published = ["protocol", "protocol-msgpack", "server", "redis", "client", "admin", "socket.io"];
const require = createRequire(import.meta.url);
/** The type packages at the versions the monorepo has, so npm finds them in its cache. */
const versionOf = (name: string) => (require(`${name}/package.json`) as { version: string }).version;

let work: string;
const tarballs = new Map<string, string>();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "hubwire-packaged-"));
  for (const name of published) {
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", work], { cwd: join(packagesDir, name) });
    const [packed] = JSON.parse(stdout) as Array<{ filename: string }>;
    tarballs.set(name, join(work, packed!.filename));
  }
}, 120_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe("the packed packages", () => {
  it("hold their built code, every file their exports name, a README and the LICENSE, and no tests or sources", async () => {
    for (const [name, tarball] of tarballs) {
      const { stdout } = await run("tar", ["tzf", tarball]);
      const files = new Set(
        stdout
          .split("\n")
          .filter(Boolean)
          .map((path) => path.replace(/^package\//, "")),
      );
      const manifest = JSON.parse((await run("tar", ["xzOf", tarball, "package/package.json"])).stdout) as {
        exports: Record<string, { types: string; default: string }>;
      };
      const named = Object.values(manifest.exports).flatMap((entry) => [entry.types, entry.default].map((path) => path.replace(/^\.\//, "")));
      expect(
        named.filter((path) => !files.has(path)),
        `${name}: exports without their file`,
      ).toEqual([]);
      expect(
        [...files].filter((path) => /\.test(-d)?\.|^src\//.test(path)),
        `${name}: tests or sources packed`,
      ).toEqual([]);
      expect(
        ["README.md", "LICENSE"].filter((path) => !files.has(path)),
        `${name}: what every npm package has`,
      ).toEqual([]);
    }
  });

  it("install into a project of their own, compile strictly against their types, and run two nodes over Redis", async () => {
    const app = join(work, "app");
    cpSync(fixture, app, { recursive: true });
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "packaged-app", private: true, type: "module" }));
    const install = ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"];
    await run("npm", [...install, ...tarballs.values(), "ws", `socket.io@${versionOf("socket.io")}`, `socket.io-client@${versionOf("socket.io-client")}`], {
      cwd: app,
    });
    // No @types/ws here: the server's public types name ws's, so it must bring them itself.
    await run("npm", [...install, "-D", `@types/node@${versionOf("@types/node")}`], { cwd: app });
    const installed = JSON.parse(readFileSync(join(app, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(Object.keys(installed.dependencies).filter((name) => name.startsWith("@hubwire/")).length).toBe(published.length);

    const tsc = require.resolve("typescript/bin/tsc");
    await run(process.execPath, [tsc, "-p", app]).catch((error: { stdout: string }) => {
      throw new Error(`The application did not compile against the packed packages:\n${error.stdout}`);
    });

    const redis = await RedisProcess.start();
    try {
      const { stdout } = await run(process.execPath, [join(app, "out", "main.js")], { env: { ...process.env, REDIS_URL: redis.url }, timeout: 30_000 });
      expect(JSON.parse(stdout.trim())).toEqual({
        received: "lobby/ada/hello from the other node",
        receivedBySocketIo: "lobby/ada/hello from the other node",
        sum: 5,
        socketIoSum: 5,
        refused: expect.stringContaining("Messages are limited to 500 characters."),
      });
    } finally {
      await redis.stop();
    }
  });
});
