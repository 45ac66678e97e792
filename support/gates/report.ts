import type { runCucumber } from '@cucumber/cucumber/api';
import { redact } from '../redaction';
import { CLAIM_MEDIA_TYPE, EVIDENCE_MEDIA_TYPE, EXIT, NOT_APPLICABLE_MEDIA_TYPE, type ExitCode, type Outcome, type Waiver } from './outcomes';

/** One Cucumber message, typed from the API itself rather than from Cucumber's internal packages. */
export type Envelope = Parameters<NonNullable<Parameters<typeof runCucumber>[2]>>[0];

/**
 * The verdict of a gate run, built from Cucumber's message stream. A scenario passes only when every
 * one of its steps and hooks passed: undefined, pending, ambiguous and skipped steps are failures
 * here, whatever Cucumber's own strictness says, so a gate that did not run can never look green.
 * The one exception to "skipped is a failure": a scenario whose non-passed steps are all skipped and which
 * carries a not-applicable attachment (a step said why it cannot run on this target) is not applicable —
 * neither passed nor failed.
 */

export type Status = 'FAILED' | 'AMBIGUOUS' | 'UNDEFINED' | 'PENDING' | 'SKIPPED' | 'UNKNOWN' | 'PASSED';

export interface ScenarioVerdict {
  readonly feature: string;
  readonly scenario: string;
  readonly uri: string;
  /** The line of the scenario (of its Examples row, for an Outline) in its feature file: `uri:line` reruns it alone. */
  readonly line?: number;
  /** The worst status of its steps and hooks, as Cucumber reported them. */
  readonly status: Status;
  readonly outcome: Outcome;
  /** First problem met, for the operator: the failing step's text and message. */
  readonly problem?: string;
  /** The text of the step (or "a hook") that met it. */
  readonly step?: string;
  /** The problem's message alone, without the step (what the terminal summary shows when there is one). */
  readonly detail?: string;
  /**
   * The failing step's whole message as Cucumber reported it, stack trace included (for an undefined step, the snippet
   * to paste): what a developer needs to fix a failure, printed after the run (failure-details.ts).
   */
  readonly message?: string;
  /** Why the scenario cannot run on this target (outcome `not applicable`). */
  readonly reason?: string;
  /** Evidence lines its steps attached (EVIDENCE_MEDIA_TYPE). */
  readonly evidence: readonly string[];
  /** Claims only the end of the run can settle (CLAIM_MEDIA_TYPE, see claims.ts). */
  readonly claims: readonly string[];
  /** The waiver that covers its failure (outcome `waived`). */
  readonly waiver?: Waiver;
}

export interface GateReport {
  readonly scenarios: readonly ScenarioVerdict[];
  /** Failures outside any scenario (a BeforeAll hook, a bad feature file, an expired waiver, a stale known gap). */
  readonly runErrors: readonly string[];
  /** Waivers that matched no failing scenario of this run: reported, not a failure. */
  readonly unusedWaivers: readonly Waiver[];
  readonly passed: number;
  /** Scenarios that did not pass and nobody answered for (neither a known gap nor waived, nor not applicable). */
  readonly failed: number;
  readonly notApplicable: number;
  readonly waived: number;
  /** Scenarios that failed exactly as a known gap of the target's layout says they must (see expectations.ts). */
  readonly knownGaps: number;
}

/** A report with its counts taken from its scenarios' outcomes. */
export function tally(scenarios: readonly ScenarioVerdict[], runErrors: readonly string[], unusedWaivers: readonly Waiver[] = []): GateReport {
  const count = (outcome: Outcome) => scenarios.filter((scenario) => scenario.outcome === outcome).length;
  return {
    scenarios,
    runErrors: [...new Set(runErrors)],
    unusedWaivers,
    passed: count('passed'),
    failed: count('failed'),
    notApplicable: count('not applicable'),
    waived: count('waived'),
    knownGaps: count('known gap'),
  };
}

export function scenariosWith(report: GateReport, outcome: Outcome): ScenarioVerdict[] {
  return report.scenarios.filter((scenario) => scenario.outcome === outcome);
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

function attachmentText(attachment: { body: string; contentEncoding: string }): string {
  return attachment.contentEncoding === 'BASE64' ? Buffer.from(attachment.body, 'base64').toString('utf8') : attachment.body;
}

interface Attempt {
  readonly testCaseId: string;
  status: Status;
  problem?: string;
  step?: string;
  detail?: string;
  message?: string;
  notApplicable?: string;
  readonly evidence: string[];
  readonly claims: string[];
}

export class ReportBuilder {
  private readonly features = new Map<string, string>();
  private readonly pickles = new Map<string, { name: string; uri: string; line?: number; steps: Map<string, string> }>();
  private readonly testCases = new Map<string, { pickleId: string; stepText: Map<string, string>; pickleSteps: Map<string, string> }>();
  /** The snippets Cucumber suggests for each undefined step, by pickle step. */
  private readonly snippets = new Map<string, string[]>();
  private readonly attempts = new Map<string, Attempt>();
  private readonly finished: string[] = [];
  private readonly runErrors: string[] = [];

  accept(envelope: Envelope): void {
    if (envelope.gherkinDocument?.feature && envelope.gherkinDocument.uri) {
      this.features.set(envelope.gherkinDocument.uri, envelope.gherkinDocument.feature.name);
    } else if (envelope.pickle) {
      const { id, name, uri, steps, location } = envelope.pickle;
      this.pickles.set(id, { name, uri, ...(location ? { line: location.line } : {}), steps: new Map(steps.map((step) => [step.id, step.text])) });
    } else if (envelope.testCase) {
      const pickle = this.pickles.get(envelope.testCase.pickleId);
      const stepText = new Map(
        envelope.testCase.testSteps.map((step) => [step.id, step.pickleStepId ? pickle?.steps.get(step.pickleStepId) ?? '' : 'a hook']),
      );
      const pickleSteps = new Map(envelope.testCase.testSteps.flatMap((step) => (step.pickleStepId ? [[step.id, step.pickleStepId] as const] : [])));
      this.testCases.set(envelope.testCase.id, { pickleId: envelope.testCase.pickleId, stepText, pickleSteps });
    } else if (envelope.suggestion) {
      this.snippets.set(envelope.suggestion.pickleStepId, envelope.suggestion.snippets.map((snippet) => snippet.code));
    } else if (envelope.testCaseStarted) {
      this.attempts.set(envelope.testCaseStarted.id, { testCaseId: envelope.testCaseStarted.testCaseId, status: 'PASSED', evidence: [], claims: [] });
    } else if (envelope.attachment) {
      const attempt = envelope.attachment.testCaseStartedId ? this.attempts.get(envelope.attachment.testCaseStartedId) : undefined;
      if (!attempt) return;
      if (envelope.attachment.mediaType === NOT_APPLICABLE_MEDIA_TYPE) {
        attempt.notApplicable ??= attachmentText(envelope.attachment).trim() || 'not applicable on this target (no reason given)';
      } else if (envelope.attachment.mediaType === EVIDENCE_MEDIA_TYPE) {
        attempt.evidence.push(...attachmentText(envelope.attachment).split('\n').map((line) => line.trim()).filter(Boolean));
      } else if (envelope.attachment.mediaType === CLAIM_MEDIA_TYPE) {
        attempt.claims.push(attachmentText(envelope.attachment).trim());
      }
    } else if (envelope.testStepFinished) {
      const { testCaseStartedId, testStepId, testStepResult } = envelope.testStepFinished;
      const attempt = this.attempts.get(testCaseStartedId);
      if (!attempt) return;
      const stepStatus = testStepResult.status as Status;
      const status = worse(attempt.status, stepStatus);
      if (status !== attempt.status && stepStatus !== 'PASSED') {
        const testCase = this.testCases.get(attempt.testCaseId);
        const text = testCase?.stepText.get(testStepId) ?? 'a step';
        const detail = firstLine(testStepResult.message);
        attempt.problem = `${testStepResult.status.toLowerCase()} at "${text}"${detail ? `: ${detail}` : ''}`;
        attempt.step = text;
        attempt.detail = detail;
        attempt.message = testStepResult.message ?? this.snippetMessage(testCase?.pickleSteps.get(testStepId));
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
      // Not applicable only when nothing worse than a skip happened: a failure after the reason stays a failure.
      const notApplicable = attempt.notApplicable !== undefined && (attempt.status === 'SKIPPED' || attempt.status === 'PASSED');
      return {
        feature: this.features.get(pickle.uri) ?? pickle.uri,
        scenario: pickle.name,
        uri: pickle.uri,
        ...(pickle.line === undefined ? {} : { line: pickle.line }),
        status: attempt.status,
        outcome: notApplicable ? 'not applicable' : attempt.status === 'PASSED' ? 'passed' : 'failed',
        ...(attempt.problem === undefined || notApplicable ? {} : { problem: attempt.problem }),
        ...(attempt.step === undefined || notApplicable ? {} : { step: attempt.step }),
        ...(attempt.detail === undefined || notApplicable ? {} : { detail: attempt.detail }),
        ...(attempt.message === undefined || notApplicable ? {} : { message: attempt.message }),
        ...(notApplicable ? { reason: attempt.notApplicable } : {}),
        evidence: attempt.evidence,
        claims: attempt.claims,
      };
    });
    return tally(scenarios, this.runErrors);
  }

  /** What Cucumber's own summary says of an undefined step: the snippet to paste (one per suggested form). */
  private snippetMessage(pickleStepId: string | undefined): string | undefined {
    const snippets = pickleStepId === undefined ? undefined : this.snippets.get(pickleStepId);
    if (!snippets?.length) return undefined;
    return `Undefined. Implement with the following snippet:\n\n${snippets.map((code) => code.replace(/^/gm, '  ')).join('\n\n')}`;
  }
}

/**
 * The exit code a report stands for: 1 when anything failed (a scenario, a run-level error, an expired waiver)
 * or no scenario ran; 3 when nothing failed but a scenario was not applicable; 0 otherwise.
 */
export function exitCodeOf(report: GateReport): ExitCode {
  if (report.scenarios.length === 0 || report.failed > 0 || report.runErrors.length > 0) return EXIT.failed;
  if (report.notApplicable > 0) return EXIT.notApplicable;
  return EXIT.green;
}

/** A run is green only when it ran at least one scenario, every scenario passed (or was answered for) and nothing else failed. */
export function isGreen(report: GateReport): boolean {
  return exitCodeOf(report) === EXIT.green;
}

const LINE = 160;

/** How much of a run-level failure the summary shows; a longer one is printed whole before it (failure-details.ts). */
export const RUN_ERROR_WIDTH = 300;

/**
 * One line, at most LINE characters: the summary stays short, the reports hold the rest. Redacted before it is
 * cut, so a cut can never leave the first characters of a secret behind where `redact` no longer sees them.
 */
function short(text: string, width = LINE): string {
  const line = redact(text).replace(/\s*\n\s*/g, ' ').trim();
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

interface GateCounts {
  passed: number;
  failed: number;
  notApplicable: number;
  waived: number;
  knownGaps: number;
  readonly scenarios: ScenarioVerdict[];
}

function verdictOf(counts: GateCounts): string {
  if (counts.failed > 0) return 'RED';
  if (counts.notApplicable > 0) return 'not applicable in part';
  const answered = [counts.waived > 0 ? 'waivers' : '', counts.knownGaps > 0 ? 'known gaps' : ''].filter(Boolean);
  return answered.length > 0 ? `green, with ${answered.join(' and ')}` : 'green';
}

/** What went wrong, shortest first: the message alone when there is one, else the step and its status. */
function whatWentWrong(scenario: ScenarioVerdict): string {
  return scenario.detail ?? scenario.problem ?? scenario.status.toLowerCase();
}

/** The lines under a gate: its evidence, and for each scenario that did not simply pass, why. */
function detailLines(scenario: ScenarioVerdict): string[] {
  const lines = scenario.evidence.map((line) => `    evidence   ${short(`${scenario.scenario}: ${line}`)}`);
  switch (scenario.outcome) {
    case 'failed':
      lines.push(`    FAILED     ${short(`${scenario.scenario}: ${whatWentWrong(scenario)}`)}`);
      break;
    case 'not applicable':
      lines.push(`    n/a        ${short(`${scenario.scenario}: ${scenario.reason ?? ''}`)}`);
      break;
    case 'waived': {
      const waiver = scenario.waiver!;
      lines.push(
        `    waived     ${short(`${scenario.scenario}: until ${waiver.expires}${waiver.owner ? ` (owner ${waiver.owner})` : ''}: ${waiver.justification}`)}`,
        `               ${short(`still failing: ${whatWentWrong(scenario)}`)}`,
      );
      break;
    }
    case 'known gap':
      // Never cut: the line is the whole story of a known gap (scenario, weakness and fix; see expectations.ts).
      lines.push(`    known gap  ${short(`${scenario.scenario}: ${whatWentWrong(scenario)}`, Infinity)}`);
      break;
    case 'passed':
      break;
  }
  return lines;
}

/** A gate's name in the summary: its feature file's name (one file per gate), e.g. `prod-undroppable`. */
export function gateName(scenario: Pick<ScenarioVerdict, 'uri'>): string {
  return scenario.uri.replace(/^.*[\\/]/, '').replace(/\.feature$/, '');
}

/** How long a run took, for its summary. */
export interface RunTimes {
  /** Seconds the target took to build; undefined when the run built none (no selected scenario needed one). */
  readonly targetSeconds?: number;
  /** How many processes shared the run, each on a target of its own (support/gates/shards.ts); one when absent. */
  readonly shards?: number;
  /** Seconds from the command's start to its summary, the target's teardown included. */
  readonly totalSeconds: number;
}

/** The summary's time line: the target's build (or that none was needed) and the run's total. */
export function timeLine(times: RunTimes): string {
  const built = times.targetSeconds?.toFixed(1);
  const target =
    built === undefined
      ? 'no target built (no selected scenario needs one)'
      : times.shards && times.shards > 1
        ? `${times.shards} shards, each on a target of its own, built in ${built} s at most`
        : `target built in ${built} s`;
  return `time: ${target}; ${times.totalSeconds.toFixed(1)} s in all`;
}

/**
 * The report for a terminal: one line per gate (feature file) with its counts and verdict, its evidence and
 * problems under it, the run-level problems and unused waivers, the run's times when given, and the closing count line.
 */
export function renderReport(report: GateReport, times?: RunTimes): string {
  const byFeature = new Map<string, GateCounts>();
  for (const scenario of report.scenarios) {
    const gate = gateName(scenario);
    const counts = byFeature.get(gate) ?? { passed: 0, failed: 0, notApplicable: 0, waived: 0, knownGaps: 0, scenarios: [] };
    if (scenario.outcome === 'passed') counts.passed += 1;
    else if (scenario.outcome === 'failed') counts.failed += 1;
    else if (scenario.outcome === 'not applicable') counts.notApplicable += 1;
    else if (scenario.outcome === 'waived') counts.waived += 1;
    else counts.knownGaps += 1;
    counts.scenarios.push(scenario);
    byFeature.set(gate, counts);
  }
  const width = Math.min(40, Math.max(4, ...[...byFeature.keys()].map((name) => name.length)));
  const column = (value: number, header: string) => String(value).padStart(header.length);
  const lines = ['', `${'Gate'.padEnd(width)}  passed  failed  n/a  waived  known gaps  verdict`];
  for (const [feature, counts] of byFeature) {
    const name = feature.length > width ? `${feature.slice(0, width - 1)}…` : feature.padEnd(width);
    lines.push(
      `${name}  ${column(counts.passed, 'passed')}  ${column(counts.failed, 'failed')}  ${column(counts.notApplicable, 'n/a')}  ` +
        `${column(counts.waived, 'waived')}  ${column(counts.knownGaps, 'known gaps')}  ${verdictOf(counts)}`,
    );
    for (const scenario of counts.scenarios) lines.push(...detailLines(scenario));
  }
  if (report.runErrors.length > 0) {
    lines.push('', 'Failures outside the scenarios:');
    for (const error of report.runErrors) lines.push(`  - ${short(error, RUN_ERROR_WIDTH)}`);
  }
  if (report.unusedWaivers.length > 0) {
    lines.push('', 'Unused waivers (no failing scenario of this run matched them; not a failure):');
    for (const waiver of report.unusedWaivers) lines.push(`  - ${short(`"${waiver.scenario}" (expires ${waiver.expires})`)}`);
  }
  if (report.scenarios.length === 0) lines.push('', 'No scenario ran: that is not a green run.');
  if (report.knownGaps > 0) lines.push('', 'Known gaps are the layout\'s weaknesses, failing as expected (features/expectations/); each names its fix.');
  if (times) lines.push('', timeLine(times));
  lines.push(
    ...(times ? [] : ['']),
    `gates: ${report.passed} passed, ${report.failed} failed, ${report.notApplicable} not applicable, ${report.waived} waived, ${report.knownGaps} known gaps`,
  );
  return lines.join('\n');
}
