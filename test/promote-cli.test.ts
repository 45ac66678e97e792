/**
 * The human's side of the promotion gate from the command line: `rehearse review` and `rehearse promote` refusing
 * what a human did not approve (the gate itself, replay included, is features/promotion-gate.feature).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { instanceNames } from '../support/naming';
import { CHANGESET_FORMAT, writeChangeset } from '../support/promote/changeset';

const ROOT = join(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-promote-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function rehearse(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, [join(ROOT, 'bin', 'rehearse.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ERP_REHEARSAL_REPORT_DIR: join(dir, 'reports'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function changeset(file: string) {
  const sandbox = instanceNames('erp', 'sandbox');
  const prod = instanceNames('erp');
  return writeChangeset(join(dir, file), {
    format: CHANGESET_FORMAT,
    title: 'a thirdparty',
    rehearsal: { host: sandbox.host, instance: sandbox.instance, database: sandbox.database, at: '2026-11-26T06:00:00Z', by: 'the agent' },
    prod: { instance: prod.instance, host: prod.host, database: prod.database },
    operations: [{ method: 'POST', path: '/thirdparties', body: { name: 'ACME' }, status: 200, response: 201 }],
    before: { root: 'a'.repeat(64), relations: {} },
    after: { root: 'b'.repeat(64), relations: {} },
    changes: [
      { key: 'table public.llx_societe', kind: 'table', name: 'public.llx_societe', change: 'content changed', rows: { added: [{ key: { rowid: '201' }, after: { rowid: '201', nom: 'ACME' } }], removed: [], changed: [] } },
    ],
  });
}

describe('rehearse review and promote', () => {
  it('review prints the changes and the digest, and writes the page next to the changeset', () => {
    const recorded = changeset('review.json');
    const run = rehearse(['review', join(dir, 'review.json')], { NO_COLOR: '1' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /public\.llx_societe/);
    assert.ok(run.stdout.includes(`digest ${recorded.digest}`), run.stdout);
    assert.ok(!run.stdout.includes('\u001b['), 'no colour off a terminal');
    assert.ok(existsSync(join(dir, 'review.html')));
    assert.ok(readFileSync(join(dir, 'review.html'), 'utf8').includes(recorded.digest));
  });

  it('review says so, exit 1, when the changeset was edited after it was recorded', () => {
    changeset('edited.json');
    const path = join(dir, 'edited.json');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"ACME"', '"ACME Holding"'));
    const run = rehearse(['review', path]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /edited after it was recorded; promote will refuse it/);
  });

  it('promote off a terminal without --approve is refused, exit 5, nothing sent, the attempt audited', () => {
    const recorded = changeset('unapproved.json');
    const audit = join(dir, 'audit.ndjson');
    const run = rehearse(['promote', join(dir, 'unapproved.json')], { ERP_REHEARSAL_PROMOTE_AUDIT: audit, ERP_REHEARSAL_ACTOR: 'ops-alice' });
    assert.equal(run.status, 5, run.stderr);
    assert.match(run.stderr, /promote refused: not on a terminal and no --approve <digest>/);
    const [record] = readFileSync(audit, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual({ who: record!['who'], digest: record!['digest'], outcome: record!['outcome'], reason: record!['reason'] }, { who: 'ops-alice', digest: recorded.digest, outcome: 'refused', reason: 'no approval' });
  });

  it('promote refuses usage it does not know with exit 2', () => {
    assert.equal(rehearse(['promote']).status, 2);
    assert.equal(rehearse(['promote', 'x.json', '--approve']).status, 2);
    assert.equal(rehearse(['review', 'a.json', 'b.json']).status, 2);
  });
});
