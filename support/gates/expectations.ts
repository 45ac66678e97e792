import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tally, type GateReport, type ScenarioVerdict } from './report';

/**
 * Known gaps: scenarios that must fail on a given layout because the layout really has the weakness
 * they probe (shared/facts/postgres-fences.md). They are written down next to the features, one file
 * per layout, and checked both ways: a listed scenario that fails for the named weakness is a known gap;
 * a listed scenario that passes, or fails for another reason, makes the run red, and so does any
 * failure that is not listed. Nothing is skipped.
 */

export interface KnownGap {
  /** The scenario's name as Cucumber reports it (Outline placeholders filled in). */
  readonly scenario: string;
  /** Words the failure message must contain: the weakness and its fix are named there. */
  readonly weakness: string;
}

export function expectationsFile(layout: string, featuresDir = 'features'): string {
  return join(featuresDir, 'expectations', `${layout}.json`);
}

export function loadKnownGaps(layout: string, featuresDir?: string): KnownGap[] {
  const file = expectationsFile(layout, featuresDir);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { knownGaps?: KnownGap[] };
  if (!Array.isArray(parsed.knownGaps)) throw new Error(`${file} has no "knownGaps" list`);
  return parsed.knownGaps;
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
    } else if (!(scenario.problem ?? '').includes(gap.weakness)) {
      runErrors.push(`"${gap.scenario}" failed, but not for the known gap "${gap.weakness}": ${scenario.problem ?? scenario.status}`);
    } else {
      // The summary shows the weakness and its fix, from where the message names it.
      const problem = scenario.problem ?? '';
      known.set(scenario, problem.slice(problem.indexOf(gap.weakness)));
    }
  }
  const scenarios = report.scenarios.map((scenario): ScenarioVerdict =>
    known.has(scenario) ? { ...scenario, outcome: 'known gap', detail: known.get(scenario)! } : scenario,
  );
  return tally(scenarios, runErrors, report.unusedWaivers);
}
