import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReportBuilder, type Envelope } from '../support/gates/report';
import { dealScenarios, mergeShardMessages, shardCount, type ShardResult } from '../support/gates/shards';

const at = (uri: string, line: number) => ({ uri, location: { line } });

describe('sharing a hermetic run across processes', () => {
  it('runs as many processes as asked, but none with fewer than four scenarios', () => {
    assert.equal(shardCount(2, 197), 2);
    assert.equal(shardCount(4, 9), 2);
    assert.equal(shardCount(2, 7), 1);
    assert.equal(shardCount(1, 197), 1);
    assert.equal(shardCount(2, 0), 1);
  });

  it("deals the scenarios round-robin, so a feature's scenarios alternate between shards, in the run's order", () => {
    const plan = [at('a.feature', 3), at('a.feature', 9), at('a.feature', 15), at('b.feature', 4), at('b.feature', 20), at('c.feature', 7)];
    assert.deepEqual(dealScenarios(plan, 2), [
      ['a.feature:3:15', 'b.feature:20'],
      ['a.feature:9', 'b.feature:4', 'c.feature:7'],
    ]);
    assert.deepEqual(dealScenarios(plan, 1), [['a.feature:3:9:15', 'b.feature:4:20', 'c.feature:7']]);
  });
});

/** A shard's message stream: one passing or failing scenario, its own run id. */
function shardStream(shard: string, status: 'PASSED' | 'FAILED', options: { finished?: boolean; seconds?: number } = {}): Envelope[] {
  const seconds = options.seconds ?? 100;
  const run = `run-${shard}`;
  const stream = [
    { meta: { protocolVersion: '1', implementation: { name: shard }, runtime: { name: 'node' }, os: { name: 'linux' }, cpu: { name: 'x64' } } },
    { gherkinDocument: { uri: `${shard}.feature`, feature: { name: `feature ${shard}` }, comments: [] } },
    { pickle: { id: `p-${shard}`, uri: `${shard}.feature`, name: `scenario ${shard}`, language: 'en', steps: [{ id: `ps-${shard}`, text: 'a step', astNodeIds: [] }], tags: [], astNodeIds: [], location: { line: 3 } } },
    { testRunStarted: { id: run, timestamp: { seconds, nanos: 0 } } },
    { testCase: { id: `tc-${shard}`, pickleId: `p-${shard}`, testRunStartedId: run, testSteps: [{ id: `ts-${shard}`, pickleStepId: `ps-${shard}` }] } },
    { testCaseStarted: { id: `tcs-${shard}`, testCaseId: `tc-${shard}`, attempt: 0, timestamp: { seconds, nanos: 0 } } },
    { testStepFinished: { testCaseStartedId: `tcs-${shard}`, testStepId: `ts-${shard}`, testStepResult: { status, duration: { seconds: 1, nanos: 0 }, ...(status === 'FAILED' ? { message: 'it broke' } : {}) }, timestamp: { seconds, nanos: 0 } } },
    { testCaseFinished: { testCaseStartedId: `tcs-${shard}`, willBeRetried: false, timestamp: { seconds: seconds + 1, nanos: 0 } } },
  ];
  if (options.finished !== false) stream.push({ testRunFinished: { testRunStartedId: run, success: status === 'PASSED', timestamp: { seconds: seconds + 2, nanos: 0 } } } as never);
  return stream as Envelope[];
}

const result = (name: string, envelopes: Envelope[], code = 0): ShardResult => ({ name, code, signal: null, envelopes });

function verdictOf(envelopes: readonly Envelope[]) {
  const report = new ReportBuilder();
  for (const envelope of envelopes) report.accept(envelope);
  return report.build();
}

describe("merging the shards' messages into one run", () => {
  it('keeps one meta, one run start (the earliest) and one run end (the latest), every test case under that run', () => {
    const merged = mergeShardMessages([result('shard 1/2', shardStream('a', 'PASSED', { seconds: 200 })), result('shard 2/2', shardStream('b', 'PASSED', { seconds: 100 }))]);
    assert.equal(merged.filter((envelope) => envelope.meta).length, 1);
    const starts = merged.filter((envelope) => envelope.testRunStarted);
    const ends = merged.filter((envelope) => envelope.testRunFinished);
    assert.equal(starts.length, 1);
    assert.equal(ends.length, 1);
    assert.equal(starts[0]!.testRunStarted!.timestamp.seconds, 100);
    assert.equal(ends[0]!.testRunFinished!.timestamp.seconds, 202);
    assert.equal(ends[0]!.testRunFinished!.success, true);
    const id = starts[0]!.testRunStarted!.id;
    assert.deepEqual(merged.filter((envelope) => envelope.testCase).map((envelope) => envelope.testCase!.testRunStartedId), [id, id]);
    // Every pickle comes before the run starts, as Cucumber sends them.
    const pickles = merged.flatMap((envelope, index) => (envelope.pickle ? [index] : []));
    assert.ok(merged.findIndex((envelope) => envelope.testRunStarted) > Math.max(...pickles));
    const report = verdictOf(merged);
    assert.deepEqual(report.scenarios.map((scenario) => [scenario.feature, scenario.outcome]), [['feature a', 'passed'], ['feature b', 'passed']]);
  });

  it("is red when one shard's run is, with that shard's failure", () => {
    const merged = mergeShardMessages([result('shard 1/2', shardStream('a', 'PASSED')), result('shard 2/2', shardStream('b', 'FAILED'), 1)]);
    assert.equal(merged.at(-1)!.testRunFinished!.success, false);
    const report = verdictOf(merged);
    assert.equal(report.failed, 1);
    assert.match(report.scenarios.find((scenario) => scenario.outcome === 'failed')!.problem!, /it broke/);
  });

  it('makes a run error of a shard that ended before its run finished: the run cannot read green', () => {
    const crashed: ShardResult = { name: 'shard 2/2', code: null, signal: 'SIGKILL', envelopes: shardStream('b', 'PASSED', { finished: false }) };
    const merged = mergeShardMessages([result('shard 1/2', shardStream('a', 'PASSED')), crashed]);
    assert.equal(merged.at(-1)!.testRunFinished!.success, false);
    const report = verdictOf(merged);
    assert.deepEqual(report.runErrors, ['shard 2/2 ended (killed by SIGKILL) before its run finished: its own lines above say why']);
    const none = verdictOf(mergeShardMessages([{ name: 'shard 1/1', code: 1, signal: null, envelopes: [] }]));
    assert.deepEqual(none.runErrors, ['shard 1/1 ended (exit code 1) before its run finished: its own lines above say why']);
  });
});
