import type { runCucumber } from '@cucumber/cucumber/api';

/** One Cucumber message, typed from the API itself rather than from Cucumber's internal packages. */
export type Envelope = Parameters<NonNullable<Parameters<typeof runCucumber>[2]>>[0];

/**
 * The verdict of a gate run, built from Cucumber's message stream. A scenario passes only when every
 * one of its steps and hooks passed: undefined, pending, ambiguous and skipped steps are failures
 * here, whatever Cucumber's own strictness says, so a gate that did not run can never look green.
 */

export type Status = 'FAILED' | 'AMBIGUOUS' | 'UNDEFINED' | 'PENDING' | 'SKIPPED' | 'UNKNOWN' | 'PASSED';

export interface ScenarioVerdict {
  readonly feature: string;
  readonly scenario: string;
  readonly uri: string;
  readonly status: Status;
  /** First problem met, for the operator: the failing step's text and message. */
  readonly problem?: string;
}

export interface GateReport {
  readonly scenarios: readonly ScenarioVerdict[];
  /** Failures outside any scenario (a BeforeAll hook, a bad feature file). */
  readonly runErrors: readonly string[];
  readonly passed: number;
  /** Scenarios that did not pass, other than known gaps. */
  readonly failed: number;
  /** Scenarios that failed exactly as a known gap of the target's layout says they must (see expectations.ts). */
  readonly knownGaps: readonly ScenarioVerdict[];
}

// Worst first: the status a scenario takes is the worst of its steps'.
const SEVERITY: readonly Status[] = ['FAILED', 'AMBIGUOUS', 'UNDEFINED', 'PENDING', 'UNKNOWN', 'SKIPPED', 'PASSED'];

function worse(a: Status, b: Status): Status {
  return SEVERITY.indexOf(a) <= SEVERITY.indexOf(b) ? a : b;
}

/** The line that says what went wrong: chai's diffs put a bare `AssertionError` first. */
function firstLine(message: string | undefined): string | undefined {
  const lines = (message ?? '').split('\n').map((line) => line.trim()).filter(Boolean);
  return /^\w*Error$/.test(lines[0] ?? '') && lines[1] ? `${lines[0]}: ${lines[1]}` : lines[0];
}

export class ReportBuilder {
  private readonly features = new Map<string, string>();
  private readonly pickles = new Map<string, { name: string; uri: string; steps: Map<string, string> }>();
  private readonly testCases = new Map<string, { pickleId: string; stepText: Map<string, string> }>();
  private readonly attempts = new Map<string, { testCaseId: string; status: Status; problem?: string }>();
  private readonly finished: string[] = [];
  private readonly runErrors: string[] = [];

  accept(envelope: Envelope): void {
    if (envelope.gherkinDocument?.feature && envelope.gherkinDocument.uri) {
      this.features.set(envelope.gherkinDocument.uri, envelope.gherkinDocument.feature.name);
    } else if (envelope.pickle) {
      const { id, name, uri, steps } = envelope.pickle;
      this.pickles.set(id, { name, uri, steps: new Map(steps.map((step) => [step.id, step.text])) });
    } else if (envelope.testCase) {
      const pickle = this.pickles.get(envelope.testCase.pickleId);
      const stepText = new Map(
        envelope.testCase.testSteps.map((step) => [step.id, step.pickleStepId ? pickle?.steps.get(step.pickleStepId) ?? '' : 'a hook']),
      );
      this.testCases.set(envelope.testCase.id, { pickleId: envelope.testCase.pickleId, stepText });
    } else if (envelope.testCaseStarted) {
      this.attempts.set(envelope.testCaseStarted.id, { testCaseId: envelope.testCaseStarted.testCaseId, status: 'PASSED' });
    } else if (envelope.testStepFinished) {
      const { testCaseStartedId, testStepId, testStepResult } = envelope.testStepFinished;
      const attempt = this.attempts.get(testCaseStartedId);
      if (!attempt) return;
      const stepStatus = testStepResult.status as Status;
      const status = worse(attempt.status, stepStatus);
      if (status !== attempt.status && stepStatus !== 'PASSED') {
        const text = this.testCases.get(attempt.testCaseId)?.stepText.get(testStepId) ?? 'a step';
        const detail = firstLine(testStepResult.message);
        attempt.problem = `${testStepResult.status.toLowerCase()} at "${text}"${detail ? `: ${detail}` : ''}`;
      }
      attempt.status = status;
    } else if (envelope.testCaseFinished) {
      if (!envelope.testCaseFinished.willBeRetried) this.finished.push(envelope.testCaseFinished.testCaseStartedId);
    } else if (envelope.testRunHookFinished && envelope.testRunHookFinished.result.status !== 'PASSED') {
      this.runErrors.push(`a BeforeAll/AfterAll hook ${envelope.testRunHookFinished.result.status.toLowerCase()}: ${envelope.testRunHookFinished.result.message ?? ''}`.trim());
    } else if (envelope.parseError) {
      this.runErrors.push(`cannot parse ${envelope.parseError.source.uri ?? 'a feature file'}: ${envelope.parseError.message}`);
    } else if (envelope.testRunFinished?.exception) {
      this.runErrors.push(envelope.testRunFinished.exception.message ?? envelope.testRunFinished.exception.type);
    }
  }

  build(): GateReport {
    const scenarios = this.finished.map((attemptId): ScenarioVerdict => {
      const attempt = this.attempts.get(attemptId)!;
      const pickle = this.pickles.get(this.testCases.get(attempt.testCaseId)!.pickleId)!;
      return {
        feature: this.features.get(pickle.uri) ?? pickle.uri,
        scenario: pickle.name,
        uri: pickle.uri,
        status: attempt.status,
        problem: attempt.problem,
      };
    });
    const passed = scenarios.filter((scenario) => scenario.status === 'PASSED').length;
    return { scenarios, runErrors: [...new Set(this.runErrors)], passed, failed: scenarios.length - passed, knownGaps: [] };
  }
}

/** A run is green only when it ran at least one scenario, every scenario passed and nothing else failed. */
export function isGreen(report: GateReport): boolean {
  return report.scenarios.length > 0 && report.failed === 0 && report.runErrors.length === 0;
}

/** The report for a terminal: one line per feature, the problems, and the closing count line. */
export function renderReport(report: GateReport): string {
  const byFeature = new Map<string, { passed: number; failed: number; known: number }>();
  for (const scenario of report.scenarios) {
    const counts = byFeature.get(scenario.feature) ?? { passed: 0, failed: 0, known: 0 };
    if (scenario.status === 'PASSED') counts.passed += 1;
    else if (report.knownGaps.includes(scenario)) counts.known += 1;
    else counts.failed += 1;
    byFeature.set(scenario.feature, counts);
  }
  const width = Math.max(7, ...[...byFeature.keys()].map((name) => name.length));
  const lines = ['', `${'Feature'.padEnd(width)}  passed  failed  known gaps  verdict`];
  for (const [feature, counts] of byFeature) {
    const verdict = counts.failed > 0 ? 'RED' : counts.known > 0 ? 'green, with known gaps' : 'green';
    lines.push(
      `${feature.padEnd(width)}  ${String(counts.passed).padStart(6)}  ${String(counts.failed).padStart(6)}  ${String(counts.known).padStart(10)}  ${verdict}`,
    );
  }
  if (report.knownGaps.length > 0) {
    lines.push('', 'Known gaps of the layout (failing as expected; each names its fix):');
    for (const scenario of report.knownGaps) lines.push(`  - ${scenario.scenario}: ${scenario.problem ?? scenario.status}`);
  }
  const known = new Set(report.knownGaps);
  const problems = report.scenarios.filter((scenario) => scenario.status !== 'PASSED' && !known.has(scenario));
  if (problems.length > 0 || report.runErrors.length > 0) {
    lines.push('', 'Not passed:');
    for (const error of report.runErrors) lines.push(`  - ${error}`);
    for (const scenario of problems) lines.push(`  - ${scenario.uri}: ${scenario.scenario}: ${scenario.problem ?? scenario.status}`);
  }
  if (report.scenarios.length === 0) lines.push('', 'No scenario ran: that is not a green run.');
  if (report.knownGaps.length > 0) lines.push('', `known gaps: ${report.knownGaps.length} (expected, not counted as failed)`);
  lines.push('', `gates: ${report.passed} passed, ${report.failed} failed`);
  return lines.join('\n');
}
