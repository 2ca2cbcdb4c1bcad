/**
 * The admin page itself: one HTML document and its script (bundled from `page/main.ts` into
 * `dist/page/admin.js` at build time), served at the admin path to requests `authorize` admits.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The page's script, read once. */
let script: string | undefined;

/**
 * The bundled script of the page.
 *
 * @example
 * ```ts
 * response.end(pageScript());
 * ```
 */
export function pageScript(): string {
  // From the package's root, so that it is found from dist/ (published) and from src/ (tests).
  return (script ??= readFileSync(fileURLToPath(new URL("../dist/page/admin.js", import.meta.url)), "utf8"));
}

/** Escapes text for an HTML attribute. */
function attribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

/**
 * The page's HTML, telling its script where the admin hub is and how often to refresh.
 *
 * @example
 * ```ts
 * response.end(pageHtml("/admin", 2_000));
 * ```
 */
export function pageHtml(path: string, refreshMs: number): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hubwire admin</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='%232563eb'/%3E%3C/svg%3E">
<style>
  :root { font-family: system-ui, sans-serif; color: #1f2937; background: #f8fafc; }
  body { margin: 0; }
  header { display: flex; gap: 1rem; align-items: center; padding: 0.75rem 1.25rem; background: #1e3a8a; color: white; }
  header h1 { font-size: 1.1rem; margin: 0; font-weight: 600; }
  header select { font: inherit; }
  #status { margin-left: auto; font-size: 0.85rem; opacity: 0.85; }
  main { padding: 1rem 1.25rem; display: grid; gap: 1rem; }
  section { background: white; border: 1px solid #e5e7eb; border-radius: 8px; padding: 0.75rem 1rem; }
  h2 { font-size: 0.95rem; margin: 0 0 0.5rem; }
  .cards { display: flex; flex-wrap: wrap; gap: 0.75rem; }
  .card { border: 1px solid #e5e7eb; border-radius: 6px; padding: 0.5rem 0.75rem; min-width: 12rem; font-size: 0.85rem; }
  .card.missing { border-color: #dc2626; color: #dc2626; }
  .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 1rem; }
  svg { width: 100%; height: 9rem; background: #f9fafb; border-radius: 4px; }
  .legend { font-size: 0.75rem; display: flex; gap: 0.75rem; flex-wrap: wrap; }
  table { width: 100%; border-collapse: collapse; font-size: 0.85rem; }
  th, td { text-align: left; padding: 0.3rem 0.4rem; border-bottom: 1px solid #f1f5f9; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  input[type=search] { font: inherit; padding: 0.2rem 0.4rem; margin-bottom: 0.5rem; }
  button { font: inherit; font-size: 0.8rem; cursor: pointer; }
  .chip { display: inline-flex; gap: 0.2rem; align-items: center; background: #e0e7ff; border-radius: 999px; padding: 0 0.5rem; margin: 0 0.2rem 0.2rem 0; }
  .chip button { border: none; background: none; padding: 0; color: #4338ca; }
  .pager { margin-top: 0.5rem; display: flex; gap: 0.5rem; }
</style>
</head>
<body data-path="${attribute(path)}" data-refresh-ms="${refreshMs}">
<header><h1>Hubwire admin</h1><label>Hub <select id="hub"></select></label><span id="status">connecting…</span></header>
<main>
  <section><h2>Nodes</h2><div class="cards" id="nodes"></div></section>
  <section class="charts">
    <div><h2>Connections per node</h2><svg id="chart-connections" viewBox="0 0 300 100" preserveAspectRatio="none"></svg><div class="legend" id="legend-connections"></div></div>
    <div><h2>Messages per second per node (in + out)</h2><svg id="chart-messages" viewBox="0 0 300 100" preserveAspectRatio="none"></svg><div class="legend" id="legend-messages"></div></div>
    <div><h2>Connections per transport</h2><svg id="chart-transports" viewBox="0 0 300 100" preserveAspectRatio="none"></svg><div class="legend" id="legend-transports"></div></div>
    <div><h2>Messages per second per transport</h2><svg id="chart-transport-messages" viewBox="0 0 300 100" preserveAspectRatio="none"></svg><div class="legend" id="legend-transport-messages"></div></div>
  </section>
  <section><h2>Connections</h2><input type="search" id="connection-search" placeholder="Search id or user">
    <table><thead><tr><th>Connection</th><th>User</th><th>Node</th><th>Transport</th><th>Protocol</th><th>Since</th><th>Groups</th><th>Msgs in/out</th><th>Bytes in/out</th><th></th></tr></thead><tbody id="connections"></tbody></table>
    <div class="pager"><button id="connections-first">First page</button><button id="connections-next">Next page</button></div></section>
  <section><h2>Groups</h2><input type="search" id="group-search" placeholder="Search groups">
    <table><thead><tr><th>Group</th><th>Members</th></tr></thead><tbody id="groups"></tbody></table>
    <div class="pager"><button id="groups-first">First page</button><button id="groups-next">Next page</button></div></section>
</main>
<script type="module" src="${attribute(path)}/admin.js"></script>
</body>
</html>
`;
}
