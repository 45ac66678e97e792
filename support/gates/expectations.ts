import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tally, type GateReport, type ScenarioVerdict } from './report';

/**
 * Known gaps: scenarios that must fail on a given layout because the layout really has the weakness
 * they probe (docs/ARCHITECTURE.md, "Facts the code relies on"). They are written down next to the features, one file
 * per layout, and checked both ways: a listed scenario that fails for the named weakness is a known gap;
 * a listed scenario that passes, or fails for another reason, makes the run red, and so does any
 * failure that is not listed. Nothing is skipped.
 */

export interface KnownGap {
  /** The scenario's name as Cucumber reports it (Outline placeholders filled in). */
  readonly scenario: string;
  /** Words the failure message must contain, naming the weakness. */
  readonly weakness: string;
  /** The fix, as the failure message names it too: the summary's one line shows the scenario, the weakness and this. */
  readonly fix: string;
}

export function expectationsFile(layout: string, featuresDir = 'features'): string {
  return join(featuresDir, 'expectations', `${layout}.json`);
}

export function loadKnownGaps(layout: string, featuresDir?: string): KnownGap[] {
  const file = expectationsFile(layout, featuresDir);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { knownGaps?: unknown[] };
  if (!Array.isArray(parsed.knownGaps)) throw new Error(`${file} has no "knownGaps" list`);
  return parsed.knownGaps.map((gap, at) => {
    const { scenario, weakness, fix } = (gap ?? {}) as Partial<Record<keyof KnownGap, unknown>>;
    if ([scenario, weakness, fix].some((field) => typeof field !== 'string' || field === '')) {
      throw new Error(`${file}: known gap ${at + 1} needs "scenario", "weakness" and "fix", each a non-empty string (the fix as its failure names it)`);
    }
    return { scenario, weakness, fix } as KnownGap;
  });
}

/** The report with the known gaps set apart; listed gaps that did not show as expected become run errors. */
export function applyKnownGaps(report: GateReport, gaps: readonly KnownGap[], file: string): GateReport {
  const known = new Map<ScenarioVerdict, string>();
  const runErrors = [...report.runErrors];
  for (const gap of gaps) {
    const scenario = report.scenarios.find((candidate) => candidate.scenario === gap.scenario);
    if (!scenario) continue; // not part of this run (e.g. a single feature was run)
    if (scenario.outcome === 'passed') {
      runErrors.push(`"${gap.scenario}" passed although ${file} lists it as a known gap: if the layout was fixed, remove it from the file`);
    } else if (scenario.outcome !== 'failed') {
      continue; // not applicable here: reported as such
    } else if (!named(scenario, gap.weakness)) {
      runErrors.push(`"${gap.scenario}" failed, but not for the known gap "${gap.weakness}": ${scenario.problem ?? scenario.status}`);
    } else if (!named(scenario, gap.fix)) {
      runErrors.push(`"${gap.scenario}" failed for its known gap, but its failure no longer names the fix ${file} gives ("${gap.fix}"): update the file to the fix it names`);
    } else {
      // The summary's one line: the weakness and its fix, as the file names them (and the failure confirmed).
      known.set(scenario, `${gap.weakness}; fix: ${gap.fix}`);
    }
  }
  const scenarios = report.scenarios.map((scenario): ScenarioVerdict =>
    known.has(scenario) ? { ...scenario, outcome: 'known gap', detail: known.get(scenario)! } : scenario,
  );
  return tally(scenarios, runErrors, report.unusedWaivers);
}

/** Whether the scenario's failure names `words`: its whole message when the report kept it, else its problem line. */
function named(scenario: ScenarioVerdict, words: string): boolean {
  return (scenario.message ?? scenario.problem ?? '').includes(words);
}
