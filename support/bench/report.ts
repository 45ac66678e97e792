/** A benchmark's results as Markdown: one run's table, and one table across the scales of several runs. */
import type { BenchReport, Comparison, Goal } from './comparison';

const MB = 1e6;

function seconds(value: number): string {
  return value >= 10 ? `${value.toFixed(1)} s` : `${value.toFixed(2)} s`;
}

function goalText(goal: Goal & { readonly against?: string }): string {
  switch (goal.kind) {
    case 'time ratio at most':
      return `≤ ${goal.value.toFixed(2)} × ${goal.against}`;
    case 'throughput ratio at least':
      return `≥ ${goal.value.toFixed(2)} × ${goal.against} throughput`;
    case 'seconds at most':
      return `≤ ${goal.value} s`;
    case 'rows per second at least':
      return `≥ ${(goal.value / 1e6).toFixed(1)} M rows/s`;
  }
}

function measured(goal: Comparison['goals'][number]): string {
  const value = goal.kind === 'seconds at most' ? seconds(goal.measured) : goal.kind === 'rows per second at least' ? `${(goal.measured / 1e6).toFixed(2)} M rows/s` : `${goal.measured.toFixed(2)} ×`;
  return `${value} ${goal.met ? 'met' : '**not met**'}`;
}

function spread(comparison: Comparison): string {
  return [comparison.harness, ...comparison.references]
    .map((m) => `${m.name} ${seconds(m.seconds.median)} (${seconds(m.seconds.min)}–${seconds(m.seconds.max)})`)
    .join('; ');
}

export function machineLine(report: BenchReport): string {
  const { machine } = report;
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}; ${machine.postgres}`;
}

export function dataLine(report: BenchReport): string {
  const { data } = report;
  return `scale ${report.scale}: ${data.rows.toLocaleString('en-US')} rows in ${data.tables} tables, ${(data.tableBytes / MB).toFixed(1)} MB of table data; golden archive ${(data.archiveBytes / MB).toFixed(1)} MB, ${data.goldenEntries} entries`;
}

/** One run: every goal with the medians (min–max over the rounds) it was computed from. */
export function renderRun(report: BenchReport): string {
  const lines = [
    `Benchmark, ${dataLine(report)}; ${report.rounds} alternating rounds; ${report.startedAt}`,
    `Machine: ${machineLine(report)}`,
    '',
    '| measurement | goal | measured | medians (min–max) |',
    '|---|---|---|---|',
  ];
  for (const comparison of report.comparisons) {
    for (const goal of comparison.goals) {
      lines.push(`| ${goal.subject ?? comparison.harness.name} | ${goalText(goal)} | ${measured(goal)} | ${spread(comparison)} |`);
    }
  }
  const noted = report.comparisons.filter((comparison) => comparison.notes.length > 0);
  if (noted.length > 0) lines.push('');
  for (const comparison of noted) {
    lines.push(`- ${comparison.harness.name}:`, ...comparison.notes.map((note) => `  - ${note}`));
  }
  return `${lines.join('\n')}\n`;
}

/** The medians a goal compares: its subject's, and its reference's when it has one. */
function compared(comparison: Comparison, goal: Comparison['goals'][number]): string {
  const all = [comparison.harness, ...comparison.references];
  const subject = all.find((m) => m.name === (goal.subject ?? comparison.harness.name)) ?? comparison.harness;
  const reference = goal.against === undefined ? undefined : all.find((m) => m.name === goal.against);
  return reference ? `${seconds(subject.seconds.median)} vs ${seconds(reference.seconds.median)}` : seconds(subject.seconds.median);
}

/** Several runs (one per scale) side by side: the README's table. */
export function renderAcrossScales(reports: readonly BenchReport[]): string {
  const sorted = [...reports].sort((a, b) => a.scale - b.scale);
  const header = sorted.map((report) => `scale ${report.scale} (${(report.data.tableBytes / MB).toFixed(0)} MB, ${(report.data.rows / 1e6).toFixed(2)} M rows)`);
  const lines = [`| measurement | goal | ${header.join(' | ')} |`, `|---|---|${header.map(() => '---|').join('')}`];
  const rows = new Map<string, { subject: string; goal: string; cells: Map<number, string> }>();
  for (const report of sorted) {
    for (const comparison of report.comparisons) {
      comparison.goals.forEach((goal, index) => {
        const key = `${comparison.id}#${index}`;
        const row = rows.get(key) ?? { subject: goal.subject ?? comparison.harness.name, goal: goalText(goal), cells: new Map<number, string>() };
        row.cells.set(report.scale, `${measured(goal)} (${compared(comparison, goal)})`);
        rows.set(key, row);
      });
    }
  }
  for (const row of rows.values()) {
    lines.push(`| ${row.subject} | ${row.goal} | ${sorted.map((report) => row.cells.get(report.scale) ?? '—').join(' | ')} |`);
  }
  return [`Machine: ${sorted[0] ? machineLine(sorted[0]) : 'none'}`, '', ...lines, ''].join('\n');
}
