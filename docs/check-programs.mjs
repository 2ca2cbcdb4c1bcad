#!/usr/bin/env node
// Type-checks every complete program in the guides: fenced blocks whose info string is
// `ts program`. Each becomes its own module under .programs/ (ignored by git), compiled strictly
// against the built packages. Exits 1 with tsc's errors, naming the guide and block.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const docs = dirname(fileURLToPath(import.meta.url));
const out = join(docs, ".programs");
rmSync(out, { recursive: true, force: true });
mkdirSync(out);

let count = 0;
for (const file of readdirSync(docs).filter((name) => name.endsWith(".md"))) {
  const text = readFileSync(join(docs, file), "utf8");
  let index = 0;
  for (const match of text.matchAll(/^```ts program\n([\s\S]*?)^```$/gm)) {
    writeFileSync(join(out, `${file.replace(/\.md$/, "")}-${++index}.ts`), match[1]);
    count++;
  }
}
writeFileSync(
  join(out, "tsconfig.json"),
  JSON.stringify({
    extends: "../../tsconfig.base.json",
    compilerOptions: { noEmit: true, lib: ["ES2022", "DOM", "DOM.Iterable"], types: ["node"], declaration: false, declarationMap: false },
    include: ["*.ts"],
  }),
);
if (count === 0) {
  console.error("No `ts program` blocks found in docs/.");
  process.exit(1);
}
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
try {
  execFileSync(process.execPath, [tsc, "-p", join(out, "tsconfig.json")], { stdio: "inherit" });
} catch {
  console.error("A program in docs/ does not compile (the file name gives the guide and the block number).");
  process.exit(1);
}
console.log(`docs: ${count} programs type-check.`);
