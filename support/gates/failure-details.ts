import { redact } from '../redaction';
import { gateName, RUN_ERROR_WIDTH, scenariosWith, type GateReport, type ScenarioVerdict } from './report';

/**
 * What a developer needs to fix a red run, printed after the run and before the summary: each scenario that really
 * failed (not a known gap, not waived, not applicable) with its failing step's whole message and stack trace, and each
 * run-level failure the summary would cut. Cucumber's own end-of-run dump is not printed (the project's progress
 * formatter prints none): it would dump the layout's known gaps too, so a green run would read red.
 */
export function renderFailures(report: GateReport): string {
  const failed = scenariosWith(report, 'failed');
  const runErrors = report.runErrors.filter((error) => error.includes('\n') || error.length > RUN_ERROR_WIDTH);
  if (failed.length === 0 && runErrors.length === 0) return '';
  const blocks = failed.map((scenario, at) => scenarioBlock(scenario, at + 1));
  if (runErrors.length > 0) blocks.push(['Failures outside the scenarios:', ...runErrors.map((error) => indent(`- ${error}`, 2))].join('\n'));
  // Every secret the harness holds is replaced before it is printed: a message may quote a credential.
  return redact(`\nFailures:\n\n${blocks.join('\n\n')}\n`);
}

function scenarioBlock(scenario: ScenarioVerdict, number: number): string {
  const where = scenario.line === undefined ? scenario.uri : `${scenario.uri}:${scenario.line}`;
  const header = `${number}) ${gateName(scenario)}: ${scenario.scenario} (${where})`;
  // The whole message when Cucumber gave one; else the problem as the report has it (e.g. a claim the run's end settled).
  if (scenario.message === undefined || scenario.step === undefined) return [header, indent(scenario.problem ?? scenario.status.toLowerCase(), 3)].join('\n');
  return [header, indent(`${scenario.status.toLowerCase()} at "${scenario.step}"`, 3), indent(scenario.message, 6)].join('\n');
}

function indent(text: string, width: number): string {
  return text.replace(/\s+$/, '').replace(/^(?=.)/gm, ' '.repeat(width));
}
