import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyKnownGaps, loadKnownGaps } from '../support/gates/expectations';
import { renderFailures } from '../support/gates/failure-details';
import { EVIDENCE_MEDIA_TYPE, EXIT, NOT_APPLICABLE_MEDIA_TYPE } from '../support/gates/outcomes';
import { exitCodeOf, isGreen, renderReport, ReportBuilder, scenariosWith, timeLine, type Envelope, type Status } from '../support/gates/report';
import { registerSecret } from '../support/redaction';

interface Attached {
  readonly step: number;
  readonly mediaType: string;
  readonly body: string;
  readonly base64?: boolean;
}

/**
 * A minimal message stream: one feature, one scenario per entry, each step finishing with a status; `attached`
 * gives, per scenario, what its steps attached.
 */
function stream(scenarios: Status[][], attached: Attached[][] = []): Envelope[] {
  const envelopes: unknown[] = [{ gherkinDocument: { uri: 'features/x.feature', feature: { name: 'X' } } }];
  scenarios.forEach((statuses, n) => {
    const steps = statuses.map((_, s) => ({ id: `p${n}s${s}`, text: `step ${s}` }));
    envelopes.push({ pickle: { id: `p${n}`, name: `scenario ${n}`, uri: 'features/x.feature', steps } });
    envelopes.push({ testCase: { id: `t${n}`, pickleId: `p${n}`, testSteps: steps.map((step, s) => ({ id: `t${n}s${s}`, pickleStepId: step.id })) } });
    envelopes.push({ testCaseStarted: { id: `a${n}`, testCaseId: `t${n}` } });
    statuses.forEach((status, s) => {
      for (const attachment of (attached[n] ?? []).filter((candidate) => candidate.step === s)) {
        const body = attachment.base64 ? Buffer.from(attachment.body).toString('base64') : attachment.body;
        envelopes.push({
          attachment: { testCaseStartedId: `a${n}`, testStepId: `t${n}s${s}`, mediaType: attachment.mediaType, body, contentEncoding: attachment.base64 ? 'BASE64' : 'IDENTITY' },
        });
      }
      envelopes.push({ testStepFinished: { testCaseStartedId: `a${n}`, testStepId: `t${n}s${s}`, testStepResult: { status, message: status === 'FAILED' ? 'boom\nstack' : undefined } } });
    });
    envelopes.push({ testCaseFinished: { testCaseStartedId: `a${n}`, willBeRetried: false } });
  });
  return envelopes as Envelope[];
}

function report(scenarios: Status[][], attached: Attached[][] = []) {
  const builder = new ReportBuilder();
  for (const envelope of stream(scenarios, attached)) builder.accept(envelope);
  return builder.build();
}

describe('gate report', () => {
  it('is green when every step of every scenario passed', () => {
    const result = report([['PASSED', 'PASSED'], ['PASSED']]);
    assert.equal(result.passed, 2);
    assert.equal(result.failed, 0);
    assert.ok(isGreen(result));
    assert.equal(exitCodeOf(result), EXIT.green);
    assert.match(renderReport(result), /^gates: 2 passed, 0 failed, 0 not applicable, 0 waived, 0 known gaps$/m);
    assert.match(renderReport(result), /^x\s+2\s+0\s+0\s+0\s+0\s+green$/m);
  });

  for (const status of ['UNDEFINED', 'PENDING', 'AMBIGUOUS', 'SKIPPED', 'FAILED', 'UNKNOWN'] as Status[]) {
    it(`is red when a step is ${status.toLowerCase()}`, () => {
      const result = report([['PASSED'], ['PASSED', status, 'SKIPPED']]);
      assert.equal(result.failed, 1);
      assert.equal(result.scenarios[1]!.status, status);
      assert.match(result.scenarios[1]!.problem!, new RegExp(`^${status.toLowerCase()} at "step 1"`));
      assert.ok(!isGreen(result));
      assert.equal(exitCodeOf(result), EXIT.failed);
    });
  }

  it('keeps only the first line of a failure message', () => {
    assert.equal(report([['FAILED']]).scenarios[0]!.problem, 'failed at "step 0": boom');
  });

  it('is red when no scenario ran at all', () => {
    const result = report([]);
    assert.ok(!isGreen(result));
    assert.equal(exitCodeOf(result), EXIT.failed);
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
  const gap = { scenario: 'scenario 1', weakness: 'PUBLIC keeps CONNECT', fix: 'REVOKE' };

  it('sets apart a listed scenario that fails for its weakness, and stays green', () => {
    const result = applyKnownGaps(build(failing('allowed: PUBLIC keeps CONNECT; fix: REVOKE')), [gap], 'x.json');
    assert.equal(result.failed, 0);
    assert.equal(result.knownGaps, 1);
    assert.deepEqual(scenariosWith(result, 'known gap').map((scenario) => scenario.scenario), ['scenario 1']);
    assert.ok(isGreen(result));
    const rendered = renderReport(result);
    assert.match(rendered, /^x\s+1\s+0\s+0\s+0\s+1\s+green, with known gaps$/m);
    assert.match(rendered, /^ {4}known gap {2}scenario 1: PUBLIC keeps CONNECT; fix: REVOKE$/m);
    assert.match(rendered, /1 known gaps$/m);
  });

  it('prints one whole line naming the scenario, the weakness and the fix, and no failure detail', () => {
    const fix = `REVOKE CONNECT, TEMP ON DATABASE "erp" FROM PUBLIC; GRANT CONNECT, TEMP ON DATABASE "erp" TO "erp_role" ${'-'.repeat(120)}`;
    const long = { ...gap, fix };
    const result = applyKnownGaps(build(failing(`allowed — PUBLIC keeps CONNECT; fix: ${fix}: expected 'allowed' to equal 'refused'\n    at probe (x.ts:1:2)`)), [long], 'x.json');
    assert.equal(result.knownGaps, 1);
    const lines = renderReport(result).split('\n').filter((line) => line.includes('known gap  '));
    assert.deepEqual(lines, [`    known gap  scenario 1: PUBLIC keeps CONNECT; fix: ${fix}`]);
    assert.equal(renderFailures(result), '', 'a known gap is no failure to detail');
  });

  it('is red when a listed scenario fails for its weakness but names another fix', () => {
    const result = applyKnownGaps(build(failing('allowed: PUBLIC keeps CONNECT; fix: GRANT')), [gap], 'x.json');
    assert.ok(!isGreen(result));
    assert.match(result.runErrors.join('\n'), /no longer names the fix x\.json gives \("REVOKE"\)/);
  });

  it('are read from a file where each names its scenario, weakness and fix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-gaps-'));
    try {
      mkdirSync(join(dir, 'expectations'));
      const write = (gaps: unknown[]) => writeFileSync(join(dir, 'expectations', 'layout.json'), JSON.stringify({ knownGaps: gaps }));
      write([gap]);
      assert.deepEqual(loadKnownGaps('layout', dir), [gap]);
      write([{ scenario: 'scenario 1', weakness: 'PUBLIC keeps CONNECT' }]);
      assert.throws(() => loadKnownGaps('layout', dir), /known gap 1 needs "scenario", "weakness" and "fix"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

const NA = (reason: string, step = 0): Attached => ({ step, mediaType: NOT_APPLICABLE_MEDIA_TYPE, body: reason });

describe('not applicable', () => {
  it('is a scenario whose non-passed steps are all skipped and which says why: neither passed nor failed, exit 3', () => {
    const result = report([['PASSED'], ['PASSED', 'SKIPPED', 'SKIPPED']], [[], [NA('the live target holds no credential of prod\'s owner', 1)]]);
    assert.equal(result.passed, 1);
    assert.equal(result.failed, 0);
    assert.equal(result.notApplicable, 1);
    assert.equal(result.scenarios[1]!.outcome, 'not applicable');
    assert.equal(result.scenarios[1]!.reason, "the live target holds no credential of prod's owner");
    assert.equal(result.scenarios[1]!.problem, undefined);
    assert.ok(!isGreen(result), 'a not applicable scenario never counts as passed');
    assert.equal(exitCodeOf(result), EXIT.notApplicable);
    const rendered = renderReport(result);
    assert.match(rendered, /^x\s+1\s+0\s+1\s+0\s+0\s+not applicable in part$/m);
    assert.match(rendered, /^ {4}n\/a {8}scenario 1: the live target holds no credential of prod's owner$/m);
    assert.match(rendered, /^gates: 1 passed, 0 failed, 1 not applicable, 0 waived, 0 known gaps$/m);
  });

  it('reads a reason attached in base64 too', () => {
    const result = report([['SKIPPED']], [[{ ...NA('no prod host on this target'), base64: true }]]);
    assert.equal(result.scenarios[0]!.reason, 'no prod host on this target');
  });

  it('stays a failure when a skipped step attached no reason', () => {
    const result = report([['PASSED', 'SKIPPED']], [[{ step: 1, mediaType: 'text/plain', body: 'just skipped' }]]);
    assert.equal(result.scenarios[0]!.outcome, 'failed');
    assert.equal(exitCodeOf(result), EXIT.failed);
  });

  it('stays a failure when a step failed, reason or not', () => {
    for (const status of ['FAILED', 'UNDEFINED', 'PENDING', 'AMBIGUOUS', 'UNKNOWN'] as Status[]) {
      const result = report([['SKIPPED', status]], [[NA('not here')]]);
      assert.equal(result.scenarios[0]!.outcome, 'failed', status);
    }
  });

  it('is never passed, even when the step that said so did not skip', () => {
    const result = report([['PASSED', 'PASSED']], [[NA('not here')]]);
    assert.equal(result.scenarios[0]!.outcome, 'not applicable');
    assert.equal(result.passed, 0);
  });

  it('does not hide a failure elsewhere: exit 1 wins over 3', () => {
    const result = report([['SKIPPED'], ['FAILED']], [[NA('not here')]]);
    assert.equal(exitCodeOf(result), EXIT.failed);
  });
});

describe('evidence in the terminal summary', () => {
  it('lists the evidence lines under their gate, and the first problem of a failed scenario', () => {
    const evidence: Attached = { step: 0, mediaType: EVIDENCE_MEDIA_TYPE, body: 'refused: SQLSTATE 42501 must be owner of database erp' };
    const rendered = renderReport(report([['PASSED'], ['FAILED']], [[evidence]]));
    assert.match(rendered, /^x\s+1\s+1\s+0\s+0\s+0\s+RED$/m);
    assert.match(rendered, /^ {4}evidence {3}scenario 0: refused: SQLSTATE 42501 must be owner of database erp$/m);
    assert.match(rendered, /^ {4}FAILED {5}scenario 1: boom$/m);
    const lines = rendered.split('\n');
    assert.ok(lines.indexOf(lines.find((line) => line.startsWith('x '))!) < lines.findIndex((line) => line.includes('evidence')));
  });

  it('keeps every line short', () => {
    const evidence: Attached = { step: 0, mediaType: EVIDENCE_MEDIA_TYPE, body: `hash ${'f'.repeat(400)}` };
    for (const line of renderReport(report([['PASSED']], [[evidence]])).split('\n')) assert.ok(line.length <= 180, line);
  });

  it('redacts before it cuts, so no first characters of a secret are left', () => {
    const secret = 'planted-secret-value-0123456789abcdef';
    registerSecret(secret);
    const evidence: Attached = { step: 0, mediaType: EVIDENCE_MEDIA_TYPE, body: `${'x'.repeat(130)} token ${secret}` };
    const rendered = renderReport(report([['PASSED']], [[evidence]]));
    assert.doesNotMatch(rendered, /planted-/);
  });
});

describe('failure details after the run', () => {
  it('keep the failing step\'s whole message, stack included, and print it with the scenario and its step', () => {
    const result = report([['PASSED'], ['PASSED', 'FAILED', 'SKIPPED']]);
    assert.equal(result.scenarios[1]!.message, 'boom\nstack');
    assert.equal(result.scenarios[1]!.step, 'step 1');
    assert.equal(renderFailures(result), '\nFailures:\n\n1) x: scenario 1 (features/x.feature)\n   failed at "step 1"\n      boom\n      stack\n');
  });

  it('are empty for a green run, a not applicable or a waived scenario', () => {
    assert.equal(renderFailures(report([['PASSED']])), '');
    assert.equal(renderFailures(report([['SKIPPED']], [[NA('not here')]])), '');
  });

  it('give an undefined step the snippet Cucumber suggests', () => {
    const builder = new ReportBuilder();
    for (const envelope of stream([['UNDEFINED']])) {
      if (envelope.testStepFinished) builder.accept({ suggestion: { id: 's', pickleStepId: 'p0s0', snippets: [{ language: 'javascript', code: "When('a step', async function () {\n  // the step's code\n});" }] } } as Envelope);
      builder.accept(envelope);
    }
    const rendered = renderFailures(builder.build());
    assert.match(rendered, /^ {3}undefined at "step 0"$/m);
    assert.match(rendered, /^ {6}Undefined\. Implement with the following snippet:$/m);
    assert.match(rendered, /^ {8}When\('a step', async function \(\) \{$/m);
  });

  it('name the scenario\'s line, to rerun it alone', () => {
    const envelopes = stream([['FAILED']]).map((envelope) =>
      envelope.pickle ? ({ pickle: { ...envelope.pickle, location: { line: 12, column: 7 } } } as Envelope) : envelope);
    const builder = new ReportBuilder();
    for (const envelope of envelopes) builder.accept(envelope);
    assert.match(renderFailures(builder.build()), /^1\) x: scenario 0 \(features\/x\.feature:12\)$/m);
  });

  it('print a run-level failure whole when the summary would cut it', () => {
    const builder = new ReportBuilder();
    for (const envelope of stream([['PASSED']])) builder.accept(envelope);
    builder.accept({ testRunHookFinished: { result: { status: 'FAILED', message: 'cluster gone\n    at start (cluster.ts:1:2)' } } } as unknown as Envelope);
    assert.match(renderFailures(builder.build()), /Failures outside the scenarios:\n {2}- a BeforeAll\/AfterAll hook failed: cluster gone\n {6}at start \(cluster\.ts:1:2\)/);
  });

  it('pass through the redaction point', () => {
    const secret = 'planted-failure-secret-9f8e7d6c';
    registerSecret(secret);
    const envelopes = stream([['FAILED']]).map((envelope) =>
      envelope.testStepFinished
        ? ({ testStepFinished: { ...envelope.testStepFinished, testStepResult: { status: 'FAILED', message: `password ${secret}\n    at x (y.ts:1:2)` } } } as unknown as Envelope)
        : envelope);
    const builder = new ReportBuilder();
    for (const envelope of envelopes) builder.accept(envelope);
    const rendered = renderFailures(builder.build());
    assert.doesNotMatch(rendered, /planted-failure-secret/);
    assert.match(rendered, /password \[redacted\]/);
  });
});

describe('the summary\'s time line', () => {
  it('says how long the target took to build, or that none was built, and the run\'s total', () => {
    assert.equal(timeLine({ targetSeconds: 9.84, totalSeconds: 23.456 }), 'time: target built in 9.8 s; 23.5 s in all');
    assert.equal(timeLine({ totalSeconds: 1.94 }), 'time: no target built (no selected scenario needs one); 1.9 s in all');
    assert.match(renderReport(report([['PASSED']]), { totalSeconds: 2 }), /^time: no target built .*\n^gates: 1 passed/m);
  });
});
