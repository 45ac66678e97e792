/**
 * What a gate run prints, run as the operator runs it (bin/rehearse.js): a green run with the layout's known gaps reads
 * green (one line per gap, no Cucumber failure dump, no stack trace); a real failure is printed whole (message and
 * stack, redacted) before the summary; a run of @no-target features builds no target, and the summary says how long
 * the target's build took or that none was built.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadSources } from '@cucumber/cucumber/api';
import { loadKnownGaps } from '../support/gates/expectations';

const ROOT = join(__dirname, '..');
const REHEARSE = join(ROOT, 'bin', 'rehearse.js');
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;
const dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-gate-output-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function environment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The command line decides the target; a waiver file of the developer's would answer for the known gaps.
  delete env.ERP_REHEARSAL_TARGET;
  delete env.ERP_REHEARSAL_WAIVERS;
  return { ...env, ERP_REHEARSAL_REPORT_DIR: join(dir, 'reports'), ...extra };
}

function rehearse(args: string[], extra: Record<string, string> = {}, command = [REHEARSE]) {
  const run = spawnSync(process.execPath, [...command, ...args], { cwd: ROOT, encoding: 'utf8', env: environment(extra), timeout: 180_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, all: `${run.stdout}\n${run.stderr}` };
}

/** A PostgreSQL that cannot start: any target build ends the run with exit 2, so a run that passes built none. */
const NO_POSTGRES = { ERP_REHEARSAL_PG_PROVIDER: 'local', ERP_REHEARSAL_PG_BINDIR: '/nonexistent/bin' };

/** No stack trace, and none of Cucumber's own end-of-run dump ("1) Scenario: …", its ✔/✖ step lines). */
function assertNoDump(output: string): void {
  assert.doesNotMatch(output, STACK_FRAME);
  assert.doesNotMatch(output, /^\d+\) Scenario: /m);
  assert.doesNotMatch(output, /[✔✖]/);
  assert.doesNotMatch(output, /^Failures:$/m);
}

describe('a green run with the layout\'s known gaps', async () => {
  // The known gaps' scenarios, found by name as Cucumber plans them, and one scenario that passes.
  const gaps = loadKnownGaps('as-provisioned');
  const { plan } = await loadSources({ defaultDialect: 'en', paths: ['features/prod-undroppable.feature'], names: [], tagExpression: '', order: 'defined' }, { cwd: ROOT });
  const lines = gaps.map((gap) => plan.find((pickle) => pickle.name === gap.scenario)!.location.line);
  const passing = plan.find((pickle) => !gaps.some((gap) => gap.scenario === pickle.name) && /cannot read prod table/.test(pickle.name))!;
  const run = rehearse(['gates', `features/prod-undroppable.feature:${[...lines, passing.location.line].join(':')}`], { ERP_REHEARSAL_LAYOUT: 'as-provisioned' });

  it('is green, exit 0', () => {
    assert.equal(run.status, 0, run.all);
    assert.match(run.stdout, /^prod-undroppable\s+1\s+0\s+0\s+0\s+3\s+green, with known gaps$/m);
    assert.match(run.stdout, /^gates: 1 passed, 0 failed, 0 not applicable, 0 waived, 3 known gaps$/m);
  });

  it('prints each known gap as one line naming its scenario, weakness and fix, whole', () => {
    const printed = run.stdout.split('\n').filter((line) => line.startsWith('    known gap  '));
    assert.deepEqual(printed, gaps.map((gap) => `    known gap  ${gap.scenario}: ${gap.weakness}; fix: ${gap.fix}`));
  });

  it('prints no Cucumber failure dump and no stack trace, on stdout or stderr', () => {
    assertNoDump(run.stdout);
    assertNoDump(run.stderr);
    assert.match(run.stdout, /^\.+F--\.+/m, "the progress line: one character per step, a known gap's failing step among them");
  });

  it('says how long the target took to build, and the run\'s total', () => {
    assert.match(run.stdout, /^time: target built in \d+\.\d s; \d+\.\d s in all$/m);
  });
});

describe('a run with a real failure', () => {
  const planted = { PLANTED_VAULT_TOKEN: 'hvs.gate-output-token-5c4b3a', PLANTED_DB_PASSWORD: 'gate-output-password-7e6d', PLANTED_API_KEY: 'gate-output-api-key-9f8e' };
  const run = rehearse(['run', '--profile', 'redaction-fixture', '--tags', '@fails or @passes'], planted);

  it('prints the failing step\'s whole message and stack trace, redacted, before the summary', () => {
    assert.equal(run.status, 1, run.all);
    const failures = run.stdout.indexOf('\nFailures:\n');
    assert.ok(failures >= 0, run.stdout);
    assert.ok(failures < run.stdout.indexOf('\nGate '), 'the failures come before the summary');
    const detail = run.stdout.slice(failures, run.stdout.indexOf('\nGate '));
    assert.match(detail, /^1\) redaction: a failure quotes the planted secrets \(test\/fixtures\/redaction\/redaction\.feature:\d+\)$/m);
    assert.match(detail, /^ {3}failed at "a step fails with a message that quotes them"$/m);
    assert.match(detail, /^ {6}Error: connection to postgres:\/\/app:\[redacted\]@db\/erp failed; Vault token \[redacted\]; API key \[redacted\]$/m);
    assert.match(detail, /^ {10}at .*test\/fixtures\/redaction\/redaction\.steps\.ts:\d+:\d+\)$/m);
    assert.doesNotMatch(detail, /a step prints and attaches/, 'a passed scenario is not detailed');
    for (const value of Object.values(planted)) assert.ok(!run.all.includes(value), `${value} was printed`);
  });

  it('prints it once: not Cucumber\'s dump as well', () => {
    assert.equal(run.stdout.split('\nFailures:\n').length, 2);
    assert.doesNotMatch(run.stdout, /^\d+\) Scenario: /m);
    assert.match(run.stdout, /^time: no target built \(no selected scenario needs one\); \d+\.\d s in all$/m);
  });
});

describe('a run whose features need no target', () => {
  it('starts no cluster, Vault or Dolibarr, and passes every scenario of naming', () => {
    const run = rehearse(['features/naming.feature'], NO_POSTGRES);
    assert.equal(run.status, 0, run.all);
    assert.match(run.stdout, /^naming\s+13\s+0\s+0\s+0\s+0\s+green$/m);
    assert.match(run.stdout, /^time: no target built \(no selected scenario needs one\); \d+\.\d s in all$/m);
    assert.doesNotMatch(run.stderr, /PostgreSQL|cluster|Vault|Dolibarr|\[target\]/);
  });

  it('still builds one when a selected scenario needs it (here: cannot, without PostgreSQL)', () => {
    const run = rehearse(['features/naming.feature', 'features/no-superuser.feature'], NO_POSTGRES);
    assert.equal(run.status, 2, run.all);
    assert.match(run.stderr, /No PostgreSQL for the hermetic target/);
  });

  it('builds none when Cucumber runs the feature itself either: the hooks give a target only to scenarios that need one', () => {
    const cucumber = join(ROOT, 'node_modules', '@cucumber', 'cucumber', 'bin', 'cucumber.js');
    // The default profile, with naming alone (paths on Cucumber's command line add to the profile's).
    const config = join(dir, 'naming.cucumber.js');
    writeFileSync(config, `module.exports = { default: { ...require(${JSON.stringify(join(ROOT, 'cucumber.js'))}).default, paths: ['features/naming.feature'] } };\n`);
    const run = rehearse(['--config', relative(ROOT, config)], NO_POSTGRES, [cucumber]);
    assert.equal(run.status, 0, run.all);
    assert.match(run.stdout, /^\.{20,}$/m);
    assert.doesNotMatch(run.all, /\[target\]|PostgreSQL/);
  });

  it('fails a @no-target scenario whose step reaches for the target, saying what to do', () => {
    const feature = join(dir, 'no-target-misuse.feature');
    writeFileSync(feature, ['@no-target', 'Feature: a feature that claims to need no target', '  Scenario: its step mints a login', '    Given a login role "sandbox" is minted for instance "erp-sandbox"', ''].join('\n'));
    const run = rehearse(['gates', feature], NO_POSTGRES);
    assert.equal(run.status, 1, run.all);
    assert.match(run.stdout, /NoTargetError: this scenario has no target: its feature is tagged @no-target, .* remove the tag from the feature if one of its steps needs the target/);
    assert.doesNotMatch(run.stderr, /PostgreSQL/);
  });
});
