/**
 * `rehearse run --target live` when the stack is not what the configuration says: each case ends within 10 s,
 * non-zero, with one actionable line and no stack trace.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFakeGolden } from './helpers/fake-golden';
import { after, before, describe, it } from 'node:test';
import { createCertificateAuthority } from '../support/hermetic/certificates';
import { EXIT } from '../support/gates/outcomes';

const REHEARSE = join(__dirname, '..', 'bin', 'rehearse.js');
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

function rehearse(env: Record<string, string>): Promise<{ status: number | null; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [REHEARSE, 'run', '--target', 'live'], { cwd: join(__dirname, '..'), env: { PATH: process.env.PATH, ...env } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (status) => resolve({ status, stderr, ms: Date.now() - started }));
  });
}

describe('rehearse run --target live against a stack that is not as configured', () => {
  let dir = '';
  let vault: Server | undefined;
  let base: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rehearse-live-errors-'));
    writeFakeGolden(dir);
    // A "Vault" whose certificate the configured CA did not sign.
    const [theirs, ours] = await Promise.all([createCertificateAuthority(), createCertificateAuthority()]);
    const certificate = await theirs.issue(['vault.arcodange.lab']);
    writeFileSync(join(dir, 'ours.pem'), ours.ca);
    vault = createServer(certificate, (_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => vault!.listen(0, '127.0.0.1', resolve));
    base = {
      ERP_REHEARSAL_ENV_FILE: '/dev/null',
      VAULT_ADDR: `https://vault.arcodange.lab:${(vault.address() as AddressInfo).port}`,
      ERP_REHEARSAL_RESOLVE: 'vault.arcodange.lab=127.0.0.1',
      VAULT_CACERT: join(dir, 'ours.pem'),
      ERP_REHEARSAL_VAULT_AUTH: 'token',
      VAULT_TOKEN: 'hvs.planted-live-errors-token',
      ERP_REHEARSAL_SANDBOX_DB_HOST: '127.0.0.1',
      ERP_REHEARSAL_PROD_DB_HOST: '127.0.0.1',
      ERP_REHEARSAL_GOLDEN_ARCHIVE: join(dir, 'golden.dump'),
      ERP_REHEARSAL_REPORT_DIR: join(dir, 'reports'),
    };
  });

  after(async () => {
    vault?.closeAllConnections();
    await new Promise((resolve) => vault?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: [string, () => Record<string, string>, number, RegExp][] = [
    ['Vault unreachable', () => ({ ...base, VAULT_ADDR: 'https://127.0.0.1:1' }), EXIT.unreachable, /cannot be reached: Vault .*ECONNREFUSED/],
    ['a wrong CA', () => base, EXIT.unreachable, /cannot be reached: Vault .*(certificate|CERT|self.signed|issuer)/i],
    ['a missing golden', () => ({ ...base, ERP_REHEARSAL_GOLDEN_ARCHIVE: join(dir, 'nowhere.dump') }), EXIT.cannotStart, /ERP_REHEARSAL_GOLDEN_ARCHIVE/],
    ['a bad domain', () => ({ ...base, ERP_REHEARSAL_DOMAIN: 'Not_A_Domain' }), EXIT.cannotStart, /ERP_REHEARSAL_DOMAIN/],
  ];
  for (const [what, env, status, message] of cases) {
    it(`${what}: exit ${status} within 10 s, one actionable line, no stack, no token`, async () => {
      const run = await rehearse(env());
      assert.equal(run.status, status, run.stderr);
      assert.ok(run.ms < 10_000, `ended after ${run.ms} ms`);
      assert.match(run.stderr, message);
      const said = run.stderr.split('\n').filter((line) => /^rehearse: |^  - /.test(line));
      assert.ok(said.length >= 1 && said.length <= 2, `one line (a config error has its heading and its problem):\n${run.stderr}`);
      assert.doesNotMatch(run.stderr, STACK_FRAME);
      assert.doesNotMatch(run.stderr, /planted-live-errors-token/);
    });
  }
});
