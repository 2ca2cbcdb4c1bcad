#!/usr/bin/env node
// Checks one workspace package (the current directory) against the architecture rules that the
// type checker cannot see. Run by `turbo run lint` in every package; prints each finding and
// exits 1 if there is any.
//
// - Imports flow one way: each package may import only the packages listed below (relative
//   imports are always fine). `node:*` means Node built-ins, which must use the `node:` prefix.
// - An index.ts holds only the export list.
// - No focused, skipped or todo tests: under CI a test that does not run is a defect.
// - A published package's exported functions and classes carry an @example (public-examples.mjs).
// - No doc comment sits directly above another (the first would document nothing).
// - The server's core stays under the runtime seam: only a runtime's own folder (src/node, with
//   the Node-only src/adapters and src/websockets; src/bun) imports that runtime's HTTP and
//   WebSocket modules. In the client, only its Node entry (src/node.ts) may import ws.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, relative } from "node:path";
import { missingExamples } from "./public-examples.mjs";

/** What each package's published code (src, tests excluded) may import. */
const allowedImports = {
  "@hubwire/protocol": [],
  "@hubwire/protocol-msgpack": ["@hubwire/protocol", "@msgpack/msgpack"],
  "@hubwire/server": ["@hubwire/protocol", "@hubwire/protocol-msgpack", "ws", "@opentelemetry/api", "node:*"],
  "@hubwire/redis": ["@hubwire/protocol", "@hubwire/protocol-msgpack", "@hubwire/server", "ioredis", "@msgpack/msgpack", "@opentelemetry/api", "node:*"],
  "@hubwire/client": ["@hubwire/protocol", "@hubwire/protocol-msgpack", "ws"],
  "@hubwire/admin": ["@hubwire/protocol", "@hubwire/server", "@hubwire/client", "node:*"],
  "@hubwire/socket.io": ["@hubwire/protocol", "@hubwire/server", "socket.io", "ws"],
  "@hubwire/test-support": ["*"],
};

const packageJson = JSON.parse(readFileSync("package.json", "utf8"));
const name = packageJson.name;
const allowed = allowedImports[name] ?? ["*"];
const findings = [];

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(entry) && !entry.endsWith(".d.ts")) yield path;
  }
}

const isTest = (path) => /\.test(-d)?\.[a-z]+$/.test(path) || path.includes("test-support") || /(^|\/)(testing|test-helpers)\//.test(path);
const importPattern = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm;
const builtins = new Set(builtinModules);

function packageOf(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** For each package, the modules only a runtime's own folders may import, by folder. */
const runtimeBound = {
  "@hubwire/server": {
    modules: ["node:http", "node:http2", "node:https", "node:net", "node:stream", "node:tls", "ws", "bun"],
    folders: { "src/node/": "node", "src/adapters/": "node", "src/websockets/": "node", "src/bun/": "bun" },
  },
  // The client's Node entry alone may load ws (lazily): a browser bundle never reaches it.
  "@hubwire/client": { modules: ["ws"], folders: { "src/node.ts": "node" } },
};

function checkRuntimeSeam(file, specifier) {
  const rule = runtimeBound[name];
  if (rule === undefined || isTest(file) || !rule.modules.includes(specifier)) return;
  const runtime = Object.entries(rule.folders).find(([folder]) => file.startsWith(folder))?.[1];
  const belongs = specifier === "bun" ? runtime === "bun" : runtime === "node";
  const home = Object.entries(rule.folders).filter(([, folderRuntime]) => folderRuntime === (specifier === "bun" ? "bun" : "node"))[0]?.[0];
  if (!belongs) findings.push(`${file}: imports '${specifier}' above the runtime seam; only ${home} may (a runtime's own code).`);
}

function checkImport(file, specifier) {
  checkRuntimeSeam(file, specifier);
  if (specifier.startsWith(".")) return;
  if (/^@hubwire\/[^/]+\/src(\/|$)/.test(specifier)) {
    findings.push(`${file}: imports '${specifier}' by its source path; import the package by name.`);
  }
  if (isTest(file) || allowed.includes("*")) return;
  if (specifier.startsWith("node:")) {
    if (!allowed.includes("node:*")) findings.push(`${file}: '${name}' must not import Node built-ins ('${specifier}').`);
    return;
  }
  if (builtins.has(packageOf(specifier))) {
    findings.push(`${file}: import Node built-ins with the 'node:' prefix ('node:${specifier}').`);
    return;
  }
  const target = packageOf(specifier);
  if (!allowed.includes(target)) {
    findings.push(`${file}: '${name}' may not import '${target}' (allowed: ${allowed.join(", ") || "nothing"}).`);
  }
}

for (const root of ["src", "test"]) {
  let files;
  try {
    files = [...sourceFiles(root)];
  } catch {
    continue;
  }
  for (const path of files) {
    const file = relative(process.cwd(), path);
    const text = readFileSync(path, "utf8");
    // Comments hold @example imports that are not this file's own.
    const code = text.replace(/\/\*[\s\S]*?\*\/|(^|[^:])\/\/.*$/gm, "$1");
    for (const match of code.matchAll(importPattern)) checkImport(file, match[1] ?? match[2] ?? match[3]);
    // A doc comment right above another is lost: TSDoc and editors keep only the one nearest the code.
    for (const match of text.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*\/\*\*/g)) {
      if (match[1].includes("@module")) continue;
      const line = text.slice(0, match.index).split("\n").length;
      findings.push(`${file}:${line}: a doc comment directly above another; only the second documents what follows.`);
    }
    if (/(^|\/)index\.ts$/.test(file)) {
      for (const statement of code
        .split(";")
        .map((s) => s.trim())
        .filter(Boolean)) {
        if (!statement.startsWith("export ")) findings.push(`${file}: an index.ts holds only exports; found '${statement.slice(0, 40)}'.`);
      }
    }
    if (isTest(file)) {
      for (const [pattern, what] of [
        [/\b(?:it|test|describe)\.only\(/, "a focused test (.only)"],
        [/\b(?:it|test|describe)\.(?:skip|todo)\(/, "a skipped or todo test"],
        [/\.skipIf\(|\.runIf\(/, "a conditionally skipped test"],
      ]) {
        if (pattern.test(text)) findings.push(`${file}: ${what}; a test that does not run is a defect.`);
      }
    }
  }
}

if (packageJson.private !== true && existsSync("src/index.ts")) {
  for (const missing of missingExamples("src/index.ts")) findings.push(`${missing}: exported without an @example in its TSDoc or its module's.`);
}

if (findings.length > 0) {
  for (const finding of findings) console.error(finding);
  console.error(`${name}: ${findings.length} architecture finding(s).`);
  process.exit(1);
}
console.log(`${name}: architecture rules hold.`);
