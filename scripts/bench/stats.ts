/**
 * The few statistics the report uses. The median, not the mean: on a shared
 * two-core machine one run in five can be slowed by a neighbour or a GC, and
 * the median ignores it.
 *
 * @module
 */

/** The median of a non-empty list (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of an empty list");
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The geometric mean of positive values (null for none): the usual summary of speed ratios. */
export function geometricMean(values: readonly number[]): number | null {
  const ok = values.filter((v) => v > 0 && Number.isFinite(v));
  if (ok.length === 0) return null;
  return Math.exp(ok.reduce((s, v) => s + Math.log(v), 0) / ok.length);
}
