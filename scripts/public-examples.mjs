// The exported functions and classes of a package's entry point that carry no `@example`, either
// their own or in their module's header (the guide's rule: public APIs carry TSDoc with an
// example). Used by lint-package.mjs for the published packages.
import { createRequire } from "node:module";
import { resolve } from "node:path";

const ts = createRequire(import.meta.url)("typescript");

/** Names (with their files) of exported functions and classes of `entry` without an example. */
export function missingExamples(entry) {
  const file = resolve(entry);
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const missing = [];
  for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)))) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (!(symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class))) continue;
    const declarations = symbol.getDeclarations() ?? [];
    const own = declarations.some((declaration) => ts.getJSDocTags(declaration).some((tag) => tag.tagName.text === "example"));
    const source = declarations[0]?.getSourceFile();
    const header = source === undefined ? "" : (/^\s*\/\*\*[\s\S]*?\*\//.exec(source.text)?.[0] ?? "");
    const inModule = header.includes("@module") && header.includes("@example");
    if (!own && !inModule) missing.push(`${exported.name} (${source?.fileName ?? "?"})`);
  }
  return missing;
}
