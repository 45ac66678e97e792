import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const REHEARSE = join(__dirname, '..', 'bin', 'rehearse.js');

function rehearse(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [REHEARSE, ...args], {
    encoding: 'utf8',
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
});
