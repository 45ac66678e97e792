import { CONTROL, type MutationResult } from './run';

/**
 * The suite's report: one row per run (mutation, expected failing scenarios, actually failing scenarios, verdict),
 * then, per run, every expected scenario with what happened to it and every scenario that failed unexpectedly.
 */

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function expectedCount(result: MutationResult): string {
  if (result.name === CONTROL) return '0';
  const met = result.verdict.expected.filter((outcome) => outcome.seen === 'failed as expected').length;
  return `${result.verdict.expected.length} (${met} failed as expected)`;
}

function failingCount(result: MutationResult): string {
  const { failing, scenarios, unexpected } = result.verdict;
  return `${failing.length} of ${scenarios}${unexpected.length > 0 ? ` (${unexpected.length} unexpected)` : ''}`;
}

export function renderTable(results: readonly MutationResult[]): string {
  const lines = [
    '| mutation | breaks | gate | expected failing | actually failing | verdict | time |',
    '|---|---|---|---|---|---|---|',
    ...results.map((result) =>
      `| ${cell(result.name)} | ${cell(result.breaks)} | ${result.gate} | ${expectedCount(result)} | ${failingCount(result)} | **${result.verdict.verdict}** | ${result.seconds.toFixed(0)} s |`,
    ),
  ];
  return lines.join('\n');
}

export function renderDetails(results: readonly MutationResult[]): string {
  const sections = results.map((result) => {
    const lines = [`### ${result.name}: ${result.verdict.verdict}`, '', result.breaks, ''];
    for (const outcome of result.verdict.expected) {
      lines.push(`- expected: ${outcome.scenario} — **${outcome.seen}**${outcome.problem && outcome.seen !== 'failed as expected' ? ` (${outcome.problem})` : ''}`);
    }
    for (const failure of result.verdict.unexpected) lines.push(`- UNEXPECTED: ${failure.scenario} — ${failure.problem}`);
    for (const error of result.verdict.runErrors) lines.push(`- RUN ERROR: ${error}`);
    if (result.verdict.verdict === 'error') lines.push(`- the run produced no scenario (exit ${result.exitCode}); its log: ${result.log}`);
    return lines.join('\n');
  });
  return sections.join('\n\n');
}

/** What the terminal shows: the table, and the details of every run that is not as it must be. */
export function renderSummary(results: readonly MutationResult[]): string {
  const wrong = results.filter((result) => result.verdict.verdict !== 'detected' && result.verdict.verdict !== 'green');
  return [renderTable(results), ...(wrong.length > 0 ? ['', renderDetails(wrong)] : [])].join('\n');
}
