import type { Ratio, Summary } from './stats';

/** What the benchmark reports: each comparison of the harness with its references, its goals, and the run's report. */
export interface Goal {
  /** What is measured, when not the comparison's harness measurement. */
  readonly subject?: string;
  /** The ratio checked: harness time over the reference's (lower is better) or throughput over the reference's. */
  readonly kind: 'time ratio at most' | 'throughput ratio at least' | 'seconds at most' | 'rows per second at least';
  readonly value: number;
}

export interface Measurement {
  readonly name: string;
  readonly seconds: Summary;
}

export interface Comparison {
  readonly id: string;
  readonly title: string;
  readonly harness: Measurement;
  readonly references: readonly Measurement[];
  /** Harness time over each reference's, per round. */
  readonly ratios: readonly (Ratio & { readonly against: string })[];
  readonly goals: readonly (Goal & { readonly against?: string; readonly measured: number; readonly met: boolean })[];
  readonly notes: readonly string[];
}

export interface BenchReport {
  readonly startedAt: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly memoryGiB: number; readonly node: string; readonly postgres: string };
  readonly scale: number;
  readonly rounds: number;
  readonly data: { readonly tables: number; readonly rows: number; readonly tableBytes: number; readonly archiveBytes: number; readonly goldenEntries: number };
  readonly setupSeconds: number;
  readonly comparisons: readonly Comparison[];
}
