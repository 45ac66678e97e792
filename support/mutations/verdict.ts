import type { GateReport } from '../gates/report';
import type { ExpectedFailure } from './mutation';

/**
 * The verdict on one mutation run, from its gate report: detected only when every expected scenario failed, each
 * for its expected reason, and nothing else failed. The control run (no mutation) must be all green: it proves the
 * failures of the other runs are the mutations' doing.
 */

export type Verdict = 'detected' | 'not detected' | 'collateral' | 'green' | 'red' | 'error';

export interface ExpectedOutcome {
  readonly scenario: string;
  /** failed with the expected reason; failed for another reason; passed (the gate missed the break); not in the run. */
  readonly seen: 'failed as expected' | 'failed for another reason' | 'passed' | 'absent';
  readonly problem?: string;
}

export interface MutationVerdict {
  readonly verdict: Verdict;
  readonly expected: readonly ExpectedOutcome[];
  /** Scenarios that failed although no expectation names them, with their problem. */
  readonly unexpected: readonly { readonly scenario: string; readonly problem: string }[];
  /** Every scenario that did not pass. */
  readonly failing: readonly string[];
  readonly scenarios: number;
  readonly runErrors: readonly string[];
}

function notPassed(report: GateReport) {
  return report.scenarios.filter((scenario) => scenario.outcome !== 'passed');
}

/** `expected` empty: the control run. */
export function judge(report: GateReport, expected: readonly ExpectedFailure[]): MutationVerdict {
  const failing = notPassed(report);
  const names = new Set(expected.map((failure) => failure.scenario));
  const outcomes = expected.map((failure): ExpectedOutcome => {
    const ran = report.scenarios.find((scenario) => scenario.scenario === failure.scenario);
    if (!ran) return { scenario: failure.scenario, seen: 'absent' };
    if (ran.outcome === 'passed') return { scenario: failure.scenario, seen: 'passed' };
    const problem = ran.problem ?? ran.reason ?? ran.outcome;
    return { scenario: failure.scenario, seen: failure.reason.test(problem) ? 'failed as expected' : 'failed for another reason', problem };
  });
  const unexpected = failing
    .filter((scenario) => !names.has(scenario.scenario))
    .map((scenario) => ({ scenario: scenario.scenario, problem: scenario.problem ?? scenario.reason ?? scenario.outcome }));
  const base = { expected: outcomes, unexpected, failing: failing.map((scenario) => scenario.scenario), scenarios: report.scenarios.length, runErrors: report.runErrors };
  if (report.scenarios.length === 0) return { ...base, verdict: 'error' };
  if (expected.length === 0) return { ...base, verdict: failing.length === 0 && report.runErrors.length === 0 ? 'green' : 'red' };
  if (outcomes.some((outcome) => outcome.seen !== 'failed as expected')) return { ...base, verdict: 'not detected' };
  if (unexpected.length > 0 || report.runErrors.length > 0) return { ...base, verdict: 'collateral' };
  return { ...base, verdict: 'detected' };
}

/** Whether the suite as a whole holds: the control green and every mutation detected. */
export function suiteHolds(verdicts: readonly Verdict[]): boolean {
  return verdicts.length > 0 && verdicts.every((verdict) => verdict === 'detected' || verdict === 'green');
}
