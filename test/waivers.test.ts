import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EXIT } from '../support/gates/outcomes';
import { exitCodeOf, renderReport, tally, type ScenarioVerdict } from '../support/gates/report';
import { applyWaivers, isExpired, loadWaivers, parseWaivers, today, WaiverFileError, type WaiverSet } from '../support/gates/waivers';

const ROOT = join(__dirname, '..');
const REHEARSE = join(ROOT, 'bin', 'rehearse.js');
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

const waiver = (fields: Record<string, unknown> = {}) => ({
  scenario: 'the sandbox credential cannot connect to database erp',
  justification: 'PUBLIC keeps CONNECT until the factory is hardened',
  expires: '2027-01-31',
  owner: 'platform team',
  ...fields,
});

function problemsOf(document: unknown): string[] {
  try {
    parseWaivers(JSON.stringify(document), 'w.json');
  } catch (error) {
    assert.ok(error instanceof WaiverFileError);
    return [...error.problems];
  }
  return [];
}

describe('waiver file validation', () => {
  it('accepts a well-formed file, owner optional, and the example shipped with the repo', () => {
    const { owner: _owner, ...withoutOwner } = waiver();
    const set = parseWaivers(JSON.stringify({ waivers: [waiver(), { ...withoutOwner, scenario: 'another' }] }), 'w.json');
    assert.equal(set.waivers.length, 2);
    assert.equal(set.waivers[1]!.owner, undefined);
    const example = loadWaivers(join(ROOT, 'waivers.example.json'));
    assert.ok(example.waivers.length >= 2);
  });

  it('reports every problem at once, one line each', () => {
    const problems = problemsOf({
      waivers: [
        waiver({ expiry: '2027-01-31' }),
        waiver({ scenario: 'b', justification: undefined }),
        waiver({ scenario: 'c', expires: '31/01/2027' }),
        waiver({ scenario: 'd', expires: '2027-02-30' }),
        waiver({ scenario: '' }),
        waiver({ scenario: 'e', justification: '  ' }),
      ],
      comment: 'x',
    });
    assert.deepEqual(problems, [
      'unknown field "comment" (allowed: waivers, about)',
      'waiver 1 ("the sandbox credential cannot connect to database erp"): unknown field "expiry" (allowed: scenario, justification, expires, owner)',
      'waiver 2 ("b"): missing justification',
      'waiver 3 ("c"): expires "31/01/2027" is not a date YYYY-MM-DD',
      'waiver 4 ("d"): expires "2027-02-30" is not a date YYYY-MM-DD',
      'waiver 5: scenario must be a non-empty string',
      'waiver 6 ("e"): justification must be a non-empty string',
    ]);
  });

  it('refuses a file that is not JSON, not a list, or waives a scenario twice', () => {
    assert.throws(() => parseWaivers('{"waivers": [', 'w.json'), /waivers w\.json: is not JSON/);
    assert.deepEqual(problemsOf({ waivers: {} }), ['"waivers" must be a list']);
    assert.deepEqual(problemsOf([]), ['must be an object {"waivers": [...]}']);
    assert.deepEqual(problemsOf({ waivers: [waiver(), waiver()] }), [
      'waiver 2 ("the sandbox credential cannot connect to database erp"): waives the same scenario as waiver 1',
    ]);
    assert.throws(() => loadWaivers('/nonexistent/waivers.json'), /waivers \/nonexistent\/waivers\.json: cannot be read \(ENOENT\)/);
  });

  it('holds through its expiry date (UTC) and expires the day after', () => {
    const w = parseWaivers(JSON.stringify({ waivers: [waiver()] }), 'w.json').waivers[0]!;
    assert.ok(!isExpired(w, '2027-01-31'));
    assert.ok(isExpired(w, '2027-02-01'));
    assert.equal(today(new Date('2027-01-31T23:59:59Z')), '2027-01-31');
  });
});

function verdict(scenario: string, outcome: ScenarioVerdict['outcome']): ScenarioVerdict {
  return {
    feature: 'The prod-undroppable proof',
    scenario,
    uri: 'features/prod-undroppable.feature',
    status: outcome === 'passed' ? 'PASSED' : 'FAILED',
    outcome,
    ...(outcome === 'passed' ? {} : { problem: 'failed at "it is refused": allowed' }),
    evidence: [],
    claims: [],
  };
}

describe('applying waivers to a report', () => {
  const report = tally(
    [
      verdict('the sandbox credential cannot drop database erp', 'passed'),
      verdict('the sandbox credential cannot connect to database erp', 'failed'),
      verdict('the sandbox credential cannot create a temporary table in database erp', 'failed'),
    ],
    [],
  );
  const set = (...waivers: ReturnType<typeof waiver>[]): WaiverSet => parseWaivers(JSON.stringify({ waivers }), 'w.json');

  it('reports a covered failure as waived, with its justification and expiry — never as passed', () => {
    const result = applyWaivers(report, set(waiver()), '2026-06-01');
    assert.equal(result.passed, 1);
    assert.equal(result.waived, 1);
    assert.equal(result.failed, 1);
    assert.equal(result.scenarios[1]!.outcome, 'waived');
    const rendered = renderReport(result);
    assert.match(rendered, /waived {5}the sandbox credential cannot connect to database erp: until 2027-01-31 \(owner platform team\): PUBLIC keeps CONNECT/);
    assert.match(rendered, /still failing: failed at "it is refused": allowed/);
    assert.match(rendered, /^gates: 1 passed, 1 failed, 0 not applicable, 1 waived, 0 known gaps$/m);
  });

  it('is green when every failure is waived', () => {
    const all = set(waiver(), waiver({ scenario: 'the sandbox credential cannot create a temporary table in database erp' }));
    const result = applyWaivers(report, all, '2026-06-01');
    assert.equal(result.failed, 0);
    assert.equal(exitCodeOf(result), EXIT.green);
    assert.match(renderReport(result), /green, with waivers$/m);
  });

  it('fails on an expired waiver, and its scenario counts as failed', () => {
    const result = applyWaivers(report, set(waiver({ expires: '2026-01-31' })), '2026-06-01');
    assert.equal(result.waived, 0);
    assert.equal(result.failed, 2);
    assert.match(result.runErrors[0]!, /^waiver expired on 2026-01-31: "the sandbox credential cannot connect to database erp" \(owner platform team\) in w\.json — the scenario still fails/);
    assert.equal(exitCodeOf(result), EXIT.failed);
  });

  it('fails on an expired waiver even when its scenario passed', () => {
    const result = applyWaivers(report, set(waiver({ scenario: 'the sandbox credential cannot drop database erp', expires: '2026-01-31' })), '2026-06-01');
    assert.match(result.runErrors.join('\n'), /waiver expired on 2026-01-31/);
    assert.equal(exitCodeOf(applyWaivers(tally([verdict('x', 'passed')], []), set(waiver({ scenario: 'x', expires: '2026-01-31' })), '2026-06-01')), EXIT.failed);
  });

  it('lists a waiver that matched no failing scenario, without failing for it', () => {
    const passing = tally([verdict('the sandbox credential cannot connect to database erp', 'passed')], []);
    const result = applyWaivers(passing, set(waiver()), '2026-06-01');
    assert.deepEqual(result.unusedWaivers.map((w) => w.scenario), ['the sandbox credential cannot connect to database erp']);
    assert.equal(exitCodeOf(result), EXIT.green);
    assert.match(renderReport(result), /Unused waivers .*not a failure\):\n {2}- "the sandbox credential cannot connect to database erp" \(expires 2027-01-31\)/);
  });
});

describe('rehearse run --waivers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rehearse-waivers-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const FAILING = 'a failure quotes the planted secrets';

  function rehearse(args: string[], env: Record<string, string> = {}) {
    const result = spawnSync(process.execPath, [REHEARSE, 'run', '--profile', 'redaction-fixture', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        ERP_REHEARSAL_REPORT_DIR: join(dir, 'reports'),
        PLANTED_VAULT_TOKEN: 'hvs.waiver-test-token-0000',
        PLANTED_DB_PASSWORD: 'waiver-test-password',
        PLANTED_API_KEY: 'waiver-test-api-key-0000',
        ...env,
      },
      timeout: 120_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }
  function file(name: string, document: unknown): string {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(document));
    return path;
  }

  it('stops a malformed waiver file before the run starts: exit 2, one line per problem', () => {
    const bad = file('bad.json', { waivers: [{ scenario: '', expires: 'soon', why: 'x' }] });
    const run = rehearse(['--waivers', bad]);
    assert.equal(run.status, EXIT.cannotStart, run.stderr);
    assert.equal(run.stdout, '', 'no gate ran');
    assert.deepEqual(run.stderr.trim().split('\n'), [
      `rehearse: waivers ${bad}: waiver 1: unknown field "why" (allowed: scenario, justification, expires, owner)`,
      `waivers ${bad}: waiver 1: scenario must be a non-empty string`,
      `waivers ${bad}: waiver 1: missing justification`,
      `waivers ${bad}: waiver 1: expires "soon" is not a date YYYY-MM-DD`,
    ]);
    assert.doesNotMatch(run.stderr, STACK_FRAME);
  });

  it('reports a waived failure as waived, an unused waiver as unused; with a not applicable scenario the exit is 3', () => {
    const waivers = file('valid.json', {
      waivers: [
        { scenario: FAILING, justification: 'the fixture fails on purpose', expires: '2999-12-31', owner: 'harness' },
        { scenario: 'a scenario that passes', justification: 'stale', expires: '2999-12-31' },
      ],
    });
    const run = rehearse([], { ERP_REHEARSAL_WAIVERS: waivers });
    assert.equal(run.status, EXIT.notApplicable, run.stdout + run.stderr);
    assert.match(run.stdout, /^redaction\s+1\s+0\s+1\s+1\s+0\s+not applicable in part$/m);
    assert.match(run.stdout, new RegExp(`waived {5}${FAILING}: until 2999-12-31 \\(owner harness\\): the fixture fails on purpose`));
    assert.match(run.stdout, /Unused waivers[^\n]*\n {2}- "a scenario that passes" \(expires 2999-12-31\)/);
    assert.match(run.stdout, /^gates: 1 passed, 0 failed, 1 not applicable, 1 waived, 0 known gaps$/m);
  });

  it('fails on an expired waiver: exit 1, and the scenario counts as failed', () => {
    const expired = file('expired.json', { waivers: [{ scenario: FAILING, justification: 'was fine once', expires: '2020-01-31' }] });
    const run = rehearse(['--waivers', expired, '--tags', '@fails']);
    assert.equal(run.status, EXIT.failed, run.stdout + run.stderr);
    assert.match(run.stdout, new RegExp(`waiver expired on 2020-01-31: "${FAILING}"`));
    assert.match(run.stdout, /^gates: 0 passed, 1 failed, 0 not applicable, 0 waived, 0 known gaps$/m);
  });
});
