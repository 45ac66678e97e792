/**
 * The live target, pointed at the hermetic stack while prod's database logs every statement it receives: the whole
 * suite runs as it runs against the real stack, and the server log must show that nothing which could change prod
 * reached it outside a transaction that was rolled back, and no DROP DATABASE anywhere. The negative twin sends a
 * probe's live form changed into a raw DROP DATABASE, and the same audit must catch it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { auditStatements, describeViolation, loggedStatements } from '../support/postgres/statement-audit';
import { runProbe, probeCatalogue } from '../support/postgres/probes';
import { probeContext } from '../support/targets/probes';
import { emulatedLiveStack, type EmulatedLiveStack } from './helpers/live-emulation';

const REHEARSE = join(__dirname, '..', 'bin', 'rehearse.js');

function runLive(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [REHEARSE, 'run', '--target', 'live'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the live target against the hermetic stack, with prod logging every statement', { timeout: 600_000 }, () => {
  let stack: EmulatedLiveStack | undefined;

  before(async () => {
    stack = await emulatedLiveStack();
  });

  after(async () => {
    await stack?.close();
  });

  it('runs every gate live, and prod receives nothing that could change it', async (t) => {
    // Only what the live run sent is judged: the hermetic stack's own provisioning and fixture load came before.
    const before = (await stack!.serverLog()).length;
    const run = await runLive(stack!.env);
    const output = `${run.stdout}\n${run.stderr}`;
    // Green, or green with gates not applicable live — never red, never unable to start.
    assert.ok(run.code === 0 || run.code === 3, `exit ${run.code}\n${output}`);
    // The verdict line: gates: N passed, N failed, N not applicable, N waived, N known gaps
    const verdict = /gates: (\d+) passed, (\d+) failed, (\d+) not applicable, (\d+) waived/.exec(run.stdout);
    assert.ok(verdict, `a verdict line\n${output}`);
    const [passed, failed, notApplicable, waived] = verdict!.slice(1).map(Number) as [number, number, number, number];
    t.diagnostic(verdict![0]);
    assert.equal(failed, 0, output);
    assert.ok(passed > 0, 'gates ran live and passed');
    assert.ok(notApplicable > 0, 'scenarios that cannot run live (forged logins, stand-in counters…) say so');
    assert.equal(waived, 3, 'the layout\'s three known gaps, waived as an operator would');
    const log = (await stack!.serverLog()).slice(before);
    const prodStatements = loggedStatements(log).filter((statement) => statement.database === stack!.target.prod.database);
    assert.ok(prodStatements.length > 0, 'the live run did reach prod (its probes), so the audit has something to judge');
    const violations = auditStatements(log, stack!.target.prod.database);
    assert.deepEqual(violations.map(describeViolation), []);
    t.diagnostic(`${prodStatements.length} statements reached ${stack!.target.prod.database}; none could change it`);
  });

  it('catches a probe whose live form is changed into a raw DROP DATABASE (the negative twin)', async () => {
    const { target } = stack!;
    const context = probeContext(target);
    const probe = probeCatalogue(context).find((candidate) => candidate.attempt === 'drop database erp')!;
    // Past defineProbe's checks, as a careless edit of the catalogue would be: the live form is the raw attempt.
    const broken = { ...probe, live: { kind: 'rollback' as const, statement: `DROP DATABASE ${target.prod.database}` } };
    const before = (await stack!.serverLog()).length;
    const sandboxLogin = await target.minter.mint(target.sandbox);
    try {
      const credentials = { sandbox: sandboxLogin, prodOwner: sandboxLogin, credentialsEditor: sandboxLogin, provisioner: sandboxLogin };
      await runProbe(target.endpointFor(target.sandbox.database), broken, 'live', credentials, context).catch(() => undefined);
    } finally {
      await target.minter.revoke(sandboxLogin);
    }
    const violations = auditStatements((await stack!.serverLog()).slice(before), target.prod.database);
    assert.ok(violations.some((violation) => violation.why === 'DROP DATABASE'), violations.map(describeViolation).join('\n'));
  });
});
