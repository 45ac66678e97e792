/** Summaries of repeated timings: the median and the spread around it, as a benchmark reports them. */

export interface Summary {
  /** Samples, in the order they were taken. */
  readonly samples: readonly number[];
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** (max − min) / median: how far apart the runs were, relative to the median. */
  readonly spread: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('the median of no samples is undefined');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarize(samples: readonly number[]): Summary {
  const m = median(samples);
  const min = Math.min(...samples);
  const max = Math.max(...samples);
  return { samples: [...samples], median: m, min, max, spread: m === 0 ? 0 : (max - min) / m };
}

/**
 * The ratio of two timings' medians, and its range over the pairs of one round each (A and B ran
 * back to back, so a pair shares the machine's state): what the goal is checked against.
 */
export interface Ratio {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function pairedRatio(a: readonly number[], b: readonly number[]): Ratio {
  if (a.length !== b.length || a.length === 0) throw new RangeError(`paired samples must be equal in number and not empty (got ${a.length} and ${b.length})`);
  const ratios = a.map((value, index) => value / b[index]!);
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}
