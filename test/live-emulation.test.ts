/**
 * The live target, pointed at the hermetic stack while prod's database logs every statement it receives: the whole
 * suite runs as it runs against the real stack, and the server log must show that nothing which could change prod
 * reached it outside a transaction that was rolled back, no DROP DATABASE but of the sandbox's own databases (the
 * template-clone reset's), and that the golden identity, through which prod's content hash is read, only read. At
 * least 85 % of the scenarios must be applicable. The operator's commands (golden, reset, snapshot, status) run live
 * too. The negative twin sends a probe's live form changed into a raw DROP DATABASE, and the same audit must catch it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { cloneNames } from '../support/naming/template-clone';
import { mintedForRole } from '../support/postgres/minting';
import { instanceNames } from '../support/naming';
import { goldenNames } from '../support/naming/golden';
import { PIN_SETTINGS_SQL } from '../support/postgres/pinned-settings';
import { auditStatements, describeViolation, loggedStatements, notReads, type LoggedStatement } from '../support/postgres/statement-audit';
import type { Target } from '../support/targets/target';
import { runProbe, probeCatalogue } from '../support/postgres/probes';
import { probeContext } from '../support/targets/probes';
import { sharedEmulatedLiveStack } from './helpers/live-emulation';
import { rehearse } from './helpers/rehearse';


/** A login the golden identity's Vault role minted, whatever the auth method. */
const byGoldenIdentity = (statement: LoggedStatement) => mintedForRole(statement.user, goldenNames(instanceNames('erp')).vaultRole);

/** The databases the template-clone reset may drop on a live target: the sandbox it replaces and its own copies. */
function sandboxDatabases(target: Target): string[] {
  const names = cloneNames(target.sandbox);
  return [names.sandboxDatabase, names.goldenDatabase, names.buildingDatabase, names.nextDatabase];
}


describe('the live target against the hermetic stack, with prod logging every statement', { timeout: 600_000 }, () => {
  const stack = sharedEmulatedLiveStack();

  it('runs every gate live, and prod receives nothing that could change it', async (t) => {
    // Only what the live run sent is judged: the hermetic stack's own provisioning and fixture load came before.
    const before = (await stack().serverLog()).length;
    const run = await rehearse(['run', '--target', 'live'], stack().env);
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
    assert.ok(notApplicable > 0, 'scenarios that cannot run live (forged logins, a redirecting Dolibarr…) say so');
    assert.equal(waived, 3, 'the layout\'s three known gaps, waived as an operator would');
    // The nightly proves the gates, not a quarter of them: a scenario is not applicable live only where no safe proof exists.
    const total = passed + failed + notApplicable + waived;
    const applicable = (total - notApplicable) / total;
    t.diagnostic(`${(applicable * 100).toFixed(1)} % of ${total} scenarios applicable live`);
    assert.ok(applicable >= 0.85, `${(applicable * 100).toFixed(1)} % applicable live, fewer than 85 %\n${output}`);
    const log = (await stack().serverLog()).slice(before);
    const prodStatements = loggedStatements(log).filter((statement) => statement.database === stack().target.prod.database);
    assert.ok(prodStatements.length > 0, 'the live run did reach prod (its probes), so the audit has something to judge');
    const violations = auditStatements(log, stack().target.prod.database, sandboxDatabases(stack().target));
    assert.deepEqual(violations.map(describeViolation), []);
    t.diagnostic(`${prodStatements.length} statements reached ${stack().target.prod.database}; none could change it`);
    // Prod's content hash is read through the golden identity, twice a run at most (each snapshot pins its settings once).
    const hashes = new Set(prodStatements.filter((statement) => statement.text.startsWith(PIN_SETTINGS_SQL)).map((statement) => statement.session));
    assert.ok(prodStatements.filter((statement) => statement.text.startsWith(PIN_SETTINGS_SQL)).every(byGoldenIdentity), "prod's hash read by the golden identity only");
    t.diagnostic(`prod's content hash read ${hashes.size} time(s) in the run`);
    assert.ok(hashes.size >= 1 && hashes.size <= 2, `prod's content hash read ${hashes.size} times: once or twice a live run`);
  });

  it("runs the operator's golden, reset, snapshot and status live; the golden identity only reads prod", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-operator-'));
    try {
      const before = (await stack().serverLog()).length;
      const env = { ...stack().env, ERP_REHEARSAL_GOLDEN_ARCHIVE: join(dir, 'golden', 'golden.dump') };
      for (const command of [['golden', '--out', 'golden'], ['reset'], ['snapshot', '--out', 'after-reset.json'], ['status']]) {
        const run = await rehearse(command, env, { cwd: dir });
        assert.equal(run.code, 0, `rehearse ${command.join(' ')}: exit ${run.code}\n${run.stdout}\n${run.stderr}`);
        t.diagnostic(`rehearse ${command.join(' ')}: ${run.stdout.split('\n')[0]}`);
      }
      const log = (await stack().serverLog()).slice(before);
      // The log's markers are this test's own queries, as the cluster's superuser.
      const prodStatements = loggedStatements(log).filter((statement) => statement.database === stack().target.prod.database && !stack().isMarker(statement));
      const others = prodStatements.filter((statement) => !byGoldenIdentity(statement)).map((statement) => `${statement.user}: ${statement.text}`);
      assert.ok(prodStatements.length > 0, 'the golden reached prod');
      assert.deepEqual(others, [], 'only the golden identity reached prod');
      assert.deepEqual(notReads(prodStatements).map((statement) => statement.text), []);
      assert.deepEqual(auditStatements(log, stack().target.prod.database, sandboxDatabases(stack().target)).map(describeViolation), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('catches a probe whose live form is changed into a raw DROP DATABASE (the negative twin)', async () => {
    const { target } = stack();
    const context = probeContext(target);
    const probe = probeCatalogue(context).find((candidate) => candidate.attempt === 'drop database erp')!;
    // Past defineProbe's checks, as a careless edit of the catalogue would be: the live form is the raw attempt.
    const broken = { ...probe, live: { kind: 'rollback' as const, statement: `DROP DATABASE ${target.prod.database}` } };
    const before = (await stack().serverLog()).length;
    const sandboxLogin = await target.minter.mint(target.sandbox);
    try {
      const credentials = { sandbox: sandboxLogin, prodOwner: sandboxLogin, credentialsEditor: sandboxLogin, provisioner: sandboxLogin };
      await runProbe(target.endpointFor(target.sandbox.database), broken, 'live', credentials, context).catch(() => undefined);
    } finally {
      await target.minter.revoke(sandboxLogin);
    }
    const violations = auditStatements((await stack().serverLog()).slice(before), target.prod.database);
    assert.ok(violations.some((violation) => violation.why === 'DROP DATABASE'), violations.map(describeViolation).join('\n'));
  });
});
