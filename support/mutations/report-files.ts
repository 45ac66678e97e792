import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MutationResult } from './run';
import { renderDetails, renderSummary, renderTable } from './table';
import { suiteHolds } from './verdict';

/** Writes the suite's table (Markdown) and results (JSON) to `dir`; returns the terminal summary and whether the suite holds. */
export function writeSuiteReport(dir: string, results: readonly MutationResult[]): { readonly summary: string; readonly holds: boolean } {
  mkdirSync(dir, { recursive: true });
  const holds = suiteHolds(results.map((result) => result.verdict.verdict));
  const verdict = holds ? 'every fence mutation was detected, and the control run is green' : 'THE SUITE DOES NOT HOLD';
  writeFileSync(join(dir, 'mutations.md'), `# Fence mutation suite\n\n${verdict}\n\n${renderTable(results)}\n\n## Per run\n\n${renderDetails(results)}\n`);
  writeFileSync(join(dir, 'mutations.json'), `${JSON.stringify({ holds, results }, (_key, value: unknown) => (value instanceof RegExp ? value.source : value), 2)}\n`);
  return { summary: `${renderSummary(results)}\n\n${verdict}`, holds };
}
