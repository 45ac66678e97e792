/**
 * The promotion gate on the live target, pointed at the hermetic stack as the live emulation does: the refusals that
 * come before the prod-write credential run and pass there; what would replay on prod, write prod as its owner or change
 * the operator's Vault is not applicable, each with its reason; prod's Dolibarr accepts no connection and prod's
 * database is reached only by the golden identity, twice at most, with nothing that could change it. A live run that
 * holds promote's own identity promotes nothing at all.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScenarioVerdict } from '../support/gates/report';
import { goldenNames } from '../support/naming/golden';
import { auditStatements, describeViolation, loggedStatements } from '../support/postgres/statement-audit';
import { sharedEmulatedLiveStack } from './helpers/live-emulation';
import { runLiveFeature } from './helpers/rehearse';

const FEATURE = 'features/promotion-gate.feature';

const REFUSALS = [
  "promote refuses a digest that is not the changeset's, and prod is untouched",
  'promote refuses without --approve off a terminal, and prod is untouched',
  'promote refuses a wrong digest typed at the prompt, and prod is untouched',
  'promote refuses a changeset edited after review, and prod is untouched',
  'promote refuses a changeset whose diff was edited, and prod is untouched',
  'promote dress-rehearses a changeset written by hand on the sandbox and refuses it, and prod is untouched',
  "promote dress-rehearses a changeset whose diff its operations don't make on the sandbox and refuses it, and prod is untouched",
  'promote dress-rehearses a changeset not rehearsed from the golden on the sandbox and refuses it, and prod is untouched',
  'promote refuses a changeset not rehearsed on the sandbox, and prod is untouched',
  "promote refuses a credential read as the agent's identity, and prod is untouched",
  "the agent's tooling cannot send the same write to prod itself: the only path to prod is promote",
];

/** The scenarios that stay not applicable live, and what their reason must say. */
const NOT_APPLICABLE: Readonly<Record<string, RegExp>> = {
  "reviewed, approved by its digest, replayed on prod: prod's diff is the rehearsed diff": /replays the changeset on prod/,
  'the digest typed at the prompt approves it too': /replays the changeset on prod/,
  'prod changed since the rehearsal: a conflict, shown, and nothing replayed': /thirdparty inserted on prod as prod's owner/,
  'promote refuses without a prod-write credential in Vault, and prod is untouched': /removing promote's prod-write credential .* the operator's/,
  "promote refuses a prod-write credential that is the agent's, and prod is untouched": /agent's sandbox key .* the operator's/,
};

const named = (scenarios: readonly ScenarioVerdict[], outcome: ScenarioVerdict['outcome']) =>
  scenarios.filter((scenario) => scenario.outcome === outcome).map((scenario) => scenario.scenario).sort();

describe('the promotion gate on the live target against the hermetic stack', { timeout: 300_000 }, () => {
  const stack = sharedEmulatedLiveStack();

  it("proves promote's refusals live: prod's Dolibarr sees no connection and prod's database only the golden identity", async () => {
    const { target } = stack();
    const logBefore = (await stack().serverLog()).length;
    const prodBefore = target.dolibarr.standins!.counts().prod;
    const run = await runLiveFeature(FEATURE, stack().env);
    assert.equal(run.code, 3, `green with scenarios not applicable live\n${run.output}`);
    assert.match(run.output, /gates: 11 passed, 0 failed, 5 not applicable/, run.output);
    assert.deepEqual(named(run.scenarios, 'passed'), [...REFUSALS].sort(), run.output);
    const notApplicable = run.scenarios.filter((scenario) => scenario.outcome === 'not applicable');
    assert.deepEqual(notApplicable.map((scenario) => scenario.scenario).sort(), Object.keys(NOT_APPLICABLE).sort());
    for (const scenario of notApplicable) assert.match(scenario.reason!, NOT_APPLICABLE[scenario.scenario]!, scenario.scenario);
    assert.deepEqual(target.dolibarr.standins!.counts().prod, prodBefore, "what prod's Dolibarr accepted during the live run");
    const log = (await stack().serverLog()).slice(logBefore);
    // The stack's own log markers, sent as the cluster's superuser, are not the run's.
    const prodStatements = loggedStatements(log)
      .filter((statement) => statement.database === target.prod.database && statement.user !== target.cluster!.superuser.user);
    assert.ok(prodStatements.length > 0, "the run read prod's content hash, so the log has something to judge");
    // Prod's content hash, read through the golden identity, twice a run at most (recorded, then settled at the end).
    const golden = new RegExp(`^v-.{1,8}-${goldenNames(target.prod).vaultRole.slice(0, 8)}-[A-Za-z0-9]{20}-\\d{10}$`);
    const users = [...new Set(prodStatements.map((statement) => statement.user))];
    assert.deepEqual(users.filter((user) => !golden.test(user)), [], 'logins other than the golden identity\'s that reached prod');
    assert.ok(users.length <= 2, `${users.length} golden logins: one per hash of prod, two at most`);
    assert.deepEqual(auditStatements(log, target.prod.database).map(describeViolation), []);
  });

  it("promotes nothing in a live run that holds promote's own identity", async () => {
    const { target } = stack();
    const promoter = target.vault.promoter;
    assert.ok(promoter?.auth.method === 'kubernetes' && promoter.auth.tokenPath, "the hermetic target's promote identity has a token file");
    const prodBefore = target.dolibarr.standins!.counts().prod;
    const run = await runLiveFeature(FEATURE, { ...stack().env, ERP_REHEARSAL_PROMOTE_TOKEN_FILE: promoter.auth.tokenPath });
    assert.equal(run.code, 3, run.output);
    assert.equal(run.scenarios.length, REFUSALS.length + Object.keys(NOT_APPLICABLE).length);
    for (const scenario of run.scenarios) {
      assert.equal(scenario.outcome, 'not applicable', `${scenario.scenario}: ${scenario.problem ?? ''}`);
      assert.match(scenario.reason!, /holds promote's own identity .* only a human promotes/, scenario.scenario);
    }
    assert.deepEqual(target.dolibarr.standins!.counts().prod, prodBefore, "what prod's Dolibarr accepted during the live run");
  });
});
