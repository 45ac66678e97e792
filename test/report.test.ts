import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyKnownGaps } from '../support/gates/expectations';
import { isGreen, renderReport, ReportBuilder, type Envelope, type Status } from '../support/gates/report';

/** A minimal message stream: one feature, one scenario per entry, each step finishing with a status. */
function stream(scenarios: Status[][]): Envelope[] {
  const envelopes: unknown[] = [{ gherkinDocument: { uri: 'features/x.feature', feature: { name: 'X' } } }];
  scenarios.forEach((statuses, n) => {
    const steps = statuses.map((_, s) => ({ id: `p${n}s${s}`, text: `step ${s}` }));
    envelopes.push({ pickle: { id: `p${n}`, name: `scenario ${n}`, uri: 'features/x.feature', steps } });
    envelopes.push({ testCase: { id: `t${n}`, pickleId: `p${n}`, testSteps: steps.map((step, s) => ({ id: `t${n}s${s}`, pickleStepId: step.id })) } });
    envelopes.push({ testCaseStarted: { id: `a${n}`, testCaseId: `t${n}` } });
    statuses.forEach((status, s) =>
      envelopes.push({ testStepFinished: { testCaseStartedId: `a${n}`, testStepId: `t${n}s${s}`, testStepResult: { status, message: status === 'FAILED' ? 'boom\nstack' : undefined } } }),
    );
    envelopes.push({ testCaseFinished: { testCaseStartedId: `a${n}`, willBeRetried: false } });
  });
  return envelopes as Envelope[];
}

function report(scenarios: Status[][]) {
  const builder = new ReportBuilder();
  for (const envelope of stream(scenarios)) builder.accept(envelope);
  return builder.build();
}

describe('gate report', () => {
  it('is green when every step of every scenario passed', () => {
    const result = report([['PASSED', 'PASSED'], ['PASSED']]);
    assert.equal(result.passed, 2);
    assert.equal(result.failed, 0);
    assert.ok(isGreen(result));
    assert.match(renderReport(result), /^gates: 2 passed, 0 failed$/m);
  });

  for (const status of ['UNDEFINED', 'PENDING', 'AMBIGUOUS', 'SKIPPED', 'FAILED', 'UNKNOWN'] as Status[]) {
    it(`is red when a step is ${status.toLowerCase()}`, () => {
      const result = report([['PASSED'], ['PASSED', status, 'SKIPPED']]);
      assert.equal(result.failed, 1);
      assert.equal(result.scenarios[1]!.status, status);
      assert.match(result.scenarios[1]!.problem!, new RegExp(`^${status.toLowerCase()} at "step 1"`));
      assert.ok(!isGreen(result));
    });
  }

  it('keeps only the first line of a failure message', () => {
    assert.equal(report([['FAILED']]).scenarios[0]!.problem, 'failed at "step 0": boom');
  });

  it('is red when no scenario ran at all', () => {
    const result = report([]);
    assert.ok(!isGreen(result));
    assert.match(renderReport(result), /No scenario ran/);
  });

  it('is red when a run-level hook failed', () => {
    const builder = new ReportBuilder();
    for (const envelope of stream([['PASSED']])) builder.accept(envelope);
    builder.accept({ testRunHookFinished: { result: { status: 'FAILED', message: 'cluster gone' } } } as unknown as Envelope);
    assert.ok(!isGreen(builder.build()));
  });
});

describe('gate report problem lines', () => {
  it('joins a bare error name with the line that explains it', () => {
    const builder = new ReportBuilder();
    const envelopes = stream([['FAILED']]).map((envelope) =>
      envelope.testStepFinished
        ? ({ testStepFinished: { ...envelope.testStepFinished, testStepResult: { status: 'FAILED', message: 'AssertionError\n  expected a to equal b\n  + expected' } } } as unknown as Envelope)
        : envelope,
    );
    for (const envelope of envelopes) builder.accept(envelope);
    assert.equal(builder.build().scenarios[0]!.problem, 'failed at "step 0": AssertionError: expected a to equal b');
  });
});

describe('known gaps of a layout', () => {
  const failing = (message: string) =>
    stream([['PASSED'], ['FAILED']]).map((envelope) =>
      envelope.testStepFinished?.testStepResult.status === 'FAILED'
        ? ({ testStepFinished: { ...envelope.testStepFinished, testStepResult: { status: 'FAILED', message } } } as unknown as Envelope)
        : envelope,
    );
  const build = (envelopes: Envelope[]) => {
    const builder = new ReportBuilder();
    for (const envelope of envelopes) builder.accept(envelope);
    return builder.build();
  };
  const gap = { scenario: 'scenario 1', weakness: 'PUBLIC keeps CONNECT' };

  it('sets apart a listed scenario that fails for its weakness, and stays green', () => {
    const result = applyKnownGaps(build(failing('allowed: PUBLIC keeps CONNECT; fix: REVOKE')), [gap], 'x.json');
    assert.equal(result.failed, 0);
    assert.deepEqual(result.knownGaps.map((scenario) => scenario.scenario), ['scenario 1']);
    assert.ok(isGreen(result));
    assert.match(renderReport(result), /Known gaps of the layout/);
  });

  it('is red when a listed scenario fails for another reason', () => {
    const result = applyKnownGaps(build(failing('connection refused')), [gap], 'x.json');
    assert.ok(!isGreen(result));
    assert.match(result.runErrors.join('\n'), /not for the known gap/);
  });

  it('is red when a listed scenario passes: the expectation file is out of date', () => {
    const result = applyKnownGaps(report([['PASSED'], ['PASSED']]), [gap], 'x.json');
    assert.ok(!isGreen(result));
    assert.match(result.runErrors.join('\n'), /remove it from the file/);
  });

  it('is red for a failure nobody listed', () => {
    const result = applyKnownGaps(build(failing('boom')), [], 'x.json');
    assert.equal(result.failed, 1);
    assert.ok(!isGreen(result));
  });
});
