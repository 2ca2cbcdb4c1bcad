/**
 * Line charts for the admin page, drawn as SVG polylines into a 300 x 100 view box: one line per
 * series over the same time window, with a legend. No library: the page carries only what it uses.
 *
 * @module
 */

/** Points of one series: [time in ms, value]. */
export type Series = ReadonlyArray<readonly [number, number]>;

const colors = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];

/**
 * Draws `series` (by name) into `svg`, over the last `windowMs` up to `now` (or the time there is
 * data for, if shorter), and names them in `legend`.
 *
 * @example
 * ```ts
 * drawChart(svg, legend, new Map([["node-1", [[t0, 3], [t1, 4]]]]), Date.now(), 300_000);
 * ```
 */
export function drawChart(svg: SVGSVGElement, legend: HTMLElement, series: ReadonlyMap<string, Series>, now: number, windowMs: number): void {
  // Until the window fills, the chart spans what there is (at least ten seconds), not five empty minutes.
  let oldest = now;
  let max = 1;
  for (const points of series.values()) {
    for (const [time, value] of points) {
      max = Math.max(max, value);
      if (time >= now - windowMs) oldest = Math.min(oldest, time);
    }
  }
  const span = Math.max(10_000, now - oldest);
  const from = now - Math.min(windowMs, span);
  const lines: string[] = [];
  const names: string[] = [];
  [...series.keys()].sort().forEach((name, index) => {
    const color = colors[index % colors.length]!;
    const points = series
      .get(name)!
      .filter(([time]) => time >= from)
      .map(([time, value]) => `${(((time - from) / (now - from)) * 300).toFixed(1)},${(100 - (value / max) * 85).toFixed(1)}`)
      .join(" ");
    lines.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" vector-effect="non-scaling-stroke" points="${points}"/>`);
    const last = series.get(name)!.at(-1)?.[1] ?? 0;
    names.push(`<span style="color:${color}">● ${escapeHtml(name)}: ${formatNumber(last)}</span>`);
  });
  svg.innerHTML = `<text x="2" y="9" font-size="8" fill="#6b7280">${formatNumber(max)}</text>${lines.join("")}`;
  legend.innerHTML = names.join("") || "<span>no data yet</span>";
}

/** A number as the page shows it. */
export function formatNumber(value: number): string {
  return value >= 10_000 ? `${Math.round(value / 1000)}k` : String(Math.round(value * 10) / 10);
}

/** Text made safe for innerHTML. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
