/** Repeated measurements of one figure: median with min and max. */
export interface Figure {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function figureOf(values: readonly number[]): Figure {
  if (values.length === 0) throw new Error("A figure needs at least one measurement.");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

const digits = (value: number) => (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
export const formatNumber = (value: number) => value.toLocaleString("en-US", { maximumFractionDigits: digits(value) });

/** "12,345 (12,001-12,800)" */
export function formatFigure(figure: Figure): string {
  if (figure.min === figure.max) return formatNumber(figure.median);
  return `${formatNumber(figure.median)} (${formatNumber(figure.min)}-${formatNumber(figure.max)})`;
}

/** "1.23x" of two medians. */
export const formatRatio = (ours: Figure, theirs: Figure) => `${(ours.median / theirs.median).toFixed(2)}x`;
