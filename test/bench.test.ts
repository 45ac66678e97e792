/** The benchmark's pure parts: statistics, alternation, and the tables it prints. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alternate } from '../support/bench/alternate';
import { renderAcrossScales, renderRun } from '../support/bench/report';
import type { BenchReport } from '../support/bench/comparison';
import { median, pairedRatio, summarize } from '../support/bench/stats';
import { stepProfile } from '../support/bench/step-profile';

describe('benchmark statistics', () => {
  it('takes the median of odd and even counts, and refuses no samples', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.throws(() => median([]), RangeError);
  });

  it('summarizes with min, max and the spread relative to the median', () => {
    const summary = summarize([10, 12, 11]);
    assert.deepEqual([summary.median, summary.min, summary.max], [11, 10, 12]);
    assert.equal(summary.spread, 2 / 11);
  });

  it('pairs ratios round by round, so one slow round moves one ratio, not the median', () => {
    const ratio = pairedRatio([10, 11, 30], [10, 10, 10]);
    assert.equal(ratio.median, 1.1);
    assert.deepEqual([ratio.min, ratio.max], [1, 3]);
    assert.throws(() => pairedRatio([1], [1, 2]), RangeError);
  });
});

describe('alternating rounds', () => {
  it('runs every variant once per round, rotating which goes first', async () => {
    const order: string[] = [];
    const samples = await alternate(3, {
      a: async () => (order.push('a'), 1),
      b: async () => (order.push('b'), 2),
      c: async () => (order.push('c'), 3),
    });
    assert.deepEqual(order, ['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
    assert.deepEqual(samples, { a: [1, 1, 1], b: [2, 2, 2], c: [3, 3, 3] });
  });
});

function report(scale: number, harness: number[], reference: number[]): BenchReport {
  return {
    startedAt: '2026-11-26T00:00:00.000Z',
    machine: { cpu: 'Test CPU', cores: 2, memoryGiB: 24, node: 'v20.20.0', postgres: 'PostgreSQL 15.18' },
    scale,
    rounds: harness.length,
    data: { tables: 276, rows: 5773 * scale, tableBytes: 4e6 * scale, archiveBytes: 1e6 * scale, goldenEntries: 2571 },
    setupSeconds: 10,
    comparisons: [
      {
        id: 'atomic-reset',
        title: 'atomic reset vs raw pg_restore',
        harness: { name: 'harness atomic reset', seconds: summarize(harness) },
        references: [{ name: 'raw pg_restore -1', seconds: summarize(reference) }],
        ratios: [{ ...pairedRatio(harness, reference), against: 'raw pg_restore -1' }],
        goals: [{ kind: 'time ratio at most', value: 1.1, against: 'raw pg_restore -1', measured: pairedRatio(harness, reference).median, met: pairedRatio(harness, reference).median <= 1.1 }],
        notes: [],
      },
    ],
  };
}

describe('benchmark tables', () => {
  it('shows each goal, whether it was met, and the medians it came from', () => {
    const table = renderRun(report(100, [10, 10.5], [10, 10]));
    assert.match(table, /Machine: Test CPU, 2 cores, 24 GiB/);
    assert.match(table, /\| harness atomic reset \| ≤ 1\.10 × raw pg_restore -1 \| 1\.02 × met \|/);
    assert.match(table, /harness atomic reset 10\.3 s \(10\.0 s–10\.5 s\)/);
  });

  it('puts scales side by side, smallest first, and marks a missed goal', () => {
    const table = renderAcrossScales([report(100, [20], [10]), report(1, [1], [1])]);
    const header = table.split('\n').find((line) => line.startsWith('| measurement'))!;
    assert.ok(header.indexOf('scale 1 ') < header.indexOf('scale 100 '), header);
    assert.match(table, /\| harness atomic reset \| ≤ 1\.10 × raw pg_restore -1 \| 1\.00 × met \(1\.00 s vs 1\.00 s\) \| 2\.00 × \*\*not met\*\* \(20\.0 s vs 10\.0 s\) \|/);
  });
});

describe('the step profile of a gate run', () => {
  it('sums each step definition and hook over the run, most expensive first', () => {
    const lines = [
      { stepDefinition: { id: 'd1', pattern: { source: 'the sandbox is reset to the golden by login {string}', type: 'CUCUMBER_EXPRESSION' }, sourceReference: {} } },
      { stepDefinition: { id: 'd2', pattern: { source: "prod's state is recorded", type: 'CUCUMBER_EXPRESSION' }, sourceReference: {} } },
      { hook: { id: 'h1', sourceReference: { uri: 'support/hooks.ts', location: { line: 40 } } } },
      { testCase: { id: 'c1', pickleId: 'p1', testSteps: [{ id: 's0', hookId: 'h1' }, { id: 's1', stepDefinitionIds: ['d1'] }, { id: 's2', stepDefinitionIds: ['d2'] }, { id: 's3', stepDefinitionIds: ['d1'] }] } },
      ...[['s0', 0, 100_000_000], ['s1', 2, 0], ['s2', 0, 500_000_000], ['s3', 2, 500_000_000]].map(([id, seconds, nanos]) => ({
        testStepFinished: { testCaseStartedId: 'x', testStepId: id, testStepResult: { duration: { seconds, nanos }, status: 'PASSED' }, timestamp: { seconds: 0, nanos: 0 } },
      })),
      { testCaseFinished: { testCaseStartedId: 'x', willBeRetried: false, timestamp: { seconds: 0, nanos: 0 } } },
    ];
    const profile = stepProfile(lines.map((line) => JSON.stringify(line)).join('\n'));
    assert.equal(profile.scenarios, 1);
    assert.equal(profile.stepSeconds.toFixed(1), '5.1');
    assert.deepEqual(
      profile.steps.map((cost) => [cost.step, cost.runs, cost.seconds.toFixed(1)]),
      [
        ['the sandbox is reset to the golden by login {string}', 2, '4.5'],
        ["prod's state is recorded", 1, '0.5'],
        ['hook support/hooks.ts:40', 1, '0.1'],
      ],
    );
  });
});
