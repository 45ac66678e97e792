import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFakeGolden } from './helpers/fake-golden';
import { describe, it } from 'node:test';
import { classify } from '../support/cli/main';
import { EXIT, isUnreachable, TargetUnreachableError } from '../support/gates/outcomes';
import { WaiverFileError } from '../support/gates/waivers';
import { SandboxOverlayError } from '../support/targets/live';

const REHEARSE = join(__dirname, '..', 'bin', 'rehearse.js');

function rehearse(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [REHEARSE, ...args], {
    encoding: 'utf8',
    cwd: join(__dirname, '..'),
    env: { PATH: process.env.PATH, ...env },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

describe('rehearse CLI', () => {
  it('without PostgreSQL binaries gives one clear error, exit 2, no stack trace', () => {
    const run = rehearse([], { ERP_REHEARSAL_PG_PROVIDER: 'local', ERP_REHEARSAL_PG_BINDIR: '/nonexistent/bin' });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /No PostgreSQL for the hermetic target/);
    assert.match(run.stderr, /apt-get install -y postgresql/);
    assert.doesNotMatch(run.stderr, STACK_FRAME);
    assert.equal(run.stdout, '', 'no gate report when no gate ran');
  });

  it('reports every bad configuration value at once, exit 2', () => {
    const run = rehearse([], { ERP_REHEARSAL_PG_PROVIDER: 'podman', ERP_REHEARSAL_FIXTURE_SCALE: 'big' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /ERP_REHEARSAL_PG_PROVIDER="podman"/);
    assert.match(run.stderr, /ERP_REHEARSAL_FIXTURE_SCALE="big"/);
    assert.doesNotMatch(run.stderr, STACK_FRAME);
  });

  it('prints the names of an instance', () => {
    const run = rehearse(['names', 'erp', 'sandbox']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^database\s+erp-sandbox$/m);
    assert.match(run.stdout, /^ownerRole\s+erp_sandbox_role$/m);
    assert.match(run.stdout, /^host\s+erp-sandbox\.arcodange\.lab$/m);
  });

  it('refuses a bad coordinate and an unknown option with exit 2', () => {
    assert.equal(rehearse(['names', 'erp', 'prod-2']).status, 2);
    const unknown = rehearse(['gates', '--fast']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown option --fast/);
  });

  it('documents run, its options and its exit codes', () => {
    const help = rehearse(['help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /rehearse run \[--target hermetic\|live\] \[--tags EXPR\] \[--waivers FILE\] \[FEATURE_PATH\.\.\.\]/);
    assert.match(help.stdout, /rehearse gates .*\n.*"rehearse run --target hermetic"/);
    for (const code of ['0', '1', '2', '3', '4']) assert.match(help.stdout, new RegExp(`^  ${code}  `, 'm'));
  });

  it('refuses a target it does not know, from the command line or the environment, with exit 2', () => {
    const flag = rehearse(['run', '--target', 'prod']);
    assert.equal(flag.status, 2);
    assert.match(flag.stderr, /^rehearse: --target "prod": use hermetic or live$/m);
    const env = rehearse(['run'], { ERP_REHEARSAL_TARGET: 'staging' });
    assert.equal(env.status, 2);
    assert.match(env.stderr, /^rehearse: ERP_REHEARSAL_TARGET "staging": use hermetic or live$/m);
    const alias = rehearse(['gates', '--target', 'live']);
    assert.equal(alias.status, 2);
    assert.match(alias.stderr, /"gates" runs the hermetic target; use "run --target live"/);
  });

  it('refuses a profile that does not exist or is for another target, with one line and exit 2', () => {
    const missing = rehearse(['run', '--profile', 'nightly']);
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /^rehearse: cannot load the Cucumber profile "nightly" from cucumber\.js: /m);
    assert.doesNotMatch(missing.stderr, STACK_FRAME);
    const other = rehearse(['run', '--target', 'hermetic', '--profile', 'live']);
    assert.equal(other.status, 2, other.stderr);
    assert.equal(other.stderr, 'rehearse: the Cucumber profile "live" runs against the live target, not the hermetic one\n');
  });

  it('selects scenarios with --tags, and refuses a bad tag expression before anything starts', () => {
    const planted = { PLANTED_VAULT_TOKEN: 'hvs.cli-test-000000', PLANTED_DB_PASSWORD: 'cli-test-password', PLANTED_API_KEY: 'cli-test-api-key' };
    const reports = mkdtempSync(join(tmpdir(), 'rehearse-cli-'));
    try {
      const selected = rehearse(['run', '--profile', 'redaction-fixture', '--tags', '@passes'], { ...planted, ERP_REHEARSAL_REPORT_DIR: reports });
      assert.equal(selected.status, 0, selected.stdout + selected.stderr);
      assert.match(selected.stdout, /^gates: 1 passed, 0 failed, 0 not applicable, 0 waived, 0 known gaps$/m);
      assert.deepEqual(readdirSync(reports).sort(), ['cucumber-messages.ndjson', 'cucumber-report.html', 'cucumber-report.xml']);
    } finally {
      rmSync(reports, { recursive: true, force: true });
    }
    const bad = rehearse(['run', '--tags', 'not ('], { ERP_REHEARSAL_PG_PROVIDER: 'local', ERP_REHEARSAL_PG_BINDIR: '/nonexistent/bin' });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, 'rehearse: --tags: Tag expression "not (" could not be parsed because of syntax error: Unmatched (.\n');
  });

  it('validates the waiver file before anything starts', () => {
    const run = rehearse(['run', '--waivers', '/nonexistent/waivers.json'], { ERP_REHEARSAL_PG_PROVIDER: 'local', ERP_REHEARSAL_PG_BINDIR: '/nonexistent/bin' });
    assert.equal(run.status, 2);
    assert.equal(run.stderr, 'rehearse: waivers /nonexistent/waivers.json: cannot be read (ENOENT)\n');
  });
});

describe('unreachable targets', () => {
  const coded = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

  it('are told by network, TLS and authentication codes and names, through causes, or by `unreachable: true`', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'CERT_HAS_EXPIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'ERR_TLS_CERT_ALTNAME_INVALID']) {
      assert.ok(isUnreachable(coded(code)), code);
    }
    for (const name of ['VaultUnreachable', 'VaultAuthenticationError']) assert.ok(isUnreachable(Object.assign(new Error('x'), { name })), name);
    assert.ok(isUnreachable(new TypeError('fetch failed', { cause: coded('ECONNREFUSED') })));
    assert.ok(isUnreachable(new AggregateError([coded('ECONNREFUSED')], 'all failed')));
    assert.ok(isUnreachable(Object.assign(new Error('no route to the live target'), { unreachable: true })));
    assert.ok(!isUnreachable(Object.assign(new Error('x'), { unreachable: 'yes' })));
    assert.ok(!isUnreachable(coded('EACCES')));
    assert.ok(!isUnreachable(Object.assign(new Error('x'), { name: 'VaultPermissionDenied' })));
    assert.ok(!isUnreachable('ECONNREFUSED'));
  });

  it('end the run with exit 4 and one actionable line', () => {
    const error = new TargetUnreachableError('live', Object.assign(new Error('Vault POST auth/jwt/login → no answer: ECONNREFUSED\n    at x (y.ts:1:2)'), { name: 'VaultUnreachable' }));
    const outcome = classify(error)!;
    assert.equal(outcome.code, EXIT.unreachable);
    assert.equal(outcome.message.split('\n').length, 1);
    assert.match(outcome.message, /^the live target cannot be reached: Vault POST auth\/jwt\/login → no answer: ECONNREFUSED — check /);
  });

  it('are what the gate runner turns a failed target build into; other build errors pass unchanged', async () => {
    const { runGates } = await import('../support/gates/run');
    const options = { profile: 'live', target: 'live' as const, paths: [], reportDir: '/nonexistent/reports', progress: () => {} };
    const unreachable = () => Promise.reject(new TypeError('fetch failed', { cause: coded('ENOTFOUND') }));
    await assert.rejects(runGates({ ...options, open: unreachable }), (error: unknown) => error instanceof TargetUnreachableError && /cannot be reached: fetch failed/.test(error.message));
    await assert.rejects(runGates({ ...options, open: () => Promise.reject(new RangeError('a bug')) }), RangeError);
  });

  it('rehearse run --target live with Vault unreachable: exit 4, one actionable line, no token, no stack', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rehearse-live-'));
    try {
      writeFakeGolden(dir);
      const run = rehearse(['run', '--target', 'live'], {
        VAULT_ADDR: 'https://127.0.0.1:1',
        ERP_REHEARSAL_VAULT_AUTH: 'token',
        VAULT_TOKEN: 'hvs.planted-unreachable-token',
        ERP_REHEARSAL_SANDBOX_DB_HOST: '127.0.0.1',
        ERP_REHEARSAL_PROD_DB_HOST: '127.0.0.1',
        ERP_REHEARSAL_GOLDEN_ARCHIVE: join(dir, 'golden.dump'),
        ERP_REHEARSAL_REPORT_DIR: join(dir, 'reports'),
      });
      assert.equal(run.status, EXIT.unreachable, run.stderr);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /^rehearse: the live target cannot be reached: Vault .*ECONNREFUSED.* — check the address, the network, the CA and the credentials/m);
      assert.equal(run.stderr.trim().split('\n').filter((line) => line.startsWith('rehearse:')).length, 1);
      assert.doesNotMatch(run.stderr, STACK_FRAME);
      assert.doesNotMatch(run.stderr, /planted-unreachable-token/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('other expected errors exit 2; unexpected ones are left to show their stack', () => {
    assert.equal(classify(new WaiverFileError('w.json', ['missing justification']))!.code, EXIT.cannotStart);
    assert.equal(classify(new SandboxOverlayError('the sandbox overlay is not in place'))!.code, EXIT.cannotStart);
    assert.equal(classify(new RangeError('a bug')), undefined);
  });
});
