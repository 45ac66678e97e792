import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { databaseComment, powersWithin } from '../support/postgres/catalog';
import { expectCloneRefused } from '../support/postgres/fence-expectations';
import { expectCloneRefusedForSessionOf, expectRecovered, lastCloneOutcome, succeededCloneReset } from '../support/lifecycle/reset-expectations';
import { goldenMark } from '../support/lifecycle/template-clone-golden';
import { databaseAclText } from '../support/postgres/database-acl';
import type { Interruption } from '../support/lifecycle/template-clone-faults';
import { cloneNames } from '../support/naming/template-clone';
import { onConfiguredIdentity } from '../support/targets/applicability';
import { putSandboxBackAtGolden } from '../support/targets/clone-put-back';
import { attemptCloneFenceOnTarget, cloneResetTargetSandbox, leaveTargetInterruptedCloneReset, mintCloneLogin } from '../support/targets/template-clone';
import type { RehearsalWorld } from '../support/world';

function sandboxAcl(world: RehearsalWorld): Promise<string | null | undefined> {
  return world.inSharedCatalog((client) => databaseAclText(client, world.target.sandbox.database));
}

/**
 * After a scenario that changed the sandbox, the sandbox is put back at the golden (other scenarios start there); a
 * scenario that only tried the clone role's fence leaves it as it found it, whatever an earlier scenario left.
 */
function putBackAfter(world: RehearsalWorld, label: string): void {
  const kept = world.cloneReset;
  if (kept.putBack) return;
  kept.putBack = true;
  world.undo.push(() => putSandboxBackAtGolden(world.target, () => world.login(label), () => world.sandboxState()));
}

async function cloneReset(world: RehearsalWorld, label: string): Promise<void> {
  putBackAfter(world, label);
  const kept = world.cloneReset;
  // Read through the sandbox database, which an interrupted clone reset may have left missing: then unknown.
  kept.aclBefore = await sandboxAcl(world).catch(() => undefined);
  kept.reset = await cloneResetTargetSandbox(world.target, world.login(label)).catch((error: Error) => error);
}

/**
 * Mints a login of the template-clone role through Vault, by the clone's own identity (Kubernetes role
 * `<sandbox>-clone`, creds `postgres/creds/<sandbox>-clone`), kept under that label and revoked after the scenario.
 *
 * Not applicable where the target has no clone identity configured.
 */
Given("a clone login {string} is minted through Vault for the sandbox's template-clone reset", async function (this: RehearsalWorld, label: string) {
  this.logins.set(label, await onConfiguredIdentity(() => mintCloneLogin(this.target)));
});

/**
 * Resets the sandbox by cloning the golden database with that clone login alone; the step fails if it is refused or fails.
 *
 * The golden database is (re)built from the golden first when it is missing or holds another golden.
 */
When('the sandbox is reset by cloning the golden database with login {string}', async function (this: RehearsalWorld, label: string) {
  await cloneReset(this, label);
  this.evidence(succeededCloneReset(lastCloneOutcome(this.cloneReset.reset)));
});

/** The golden database's comment names the golden manifest's content hash: it holds that golden. */
Then("the golden database records the golden manifest's content hash", async function (this: RehearsalWorld) {
  const { goldenDatabase } = cloneNames(this.target.sandbox);
  const comment = await this.inSharedCatalog((client) => databaseComment(client, goldenDatabase));
  expect(comment, `the comment of database ${goldenDatabase}`).to.equal(goldenMark(this.target.golden));
});

/** The sandbox database's ACL (who may connect, make temp tables) is the one it had before the last clone reset. */
Then("the sandbox database's access is what it was before the reset", async function (this: RehearsalWorld) {
  const kept = this.cloneReset;
  expect(kept.aclBefore, 'the ACL was read before the reset').to.not.equal(undefined);
  expect(await sandboxAcl(this), `the ACL of database ${this.target.sandbox.database}`).to.equal(kept.aclBefore);
});

/** The roles' powers (SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS) reachable by the login are exactly those listed. */
Then(
  'the powers of login {string}, and of every role it can become, are exactly {string}',
  async function (this: RehearsalWorld, label: string, expected: string) {
    const powers = await this.inSharedCatalog((client) => powersWithin(client, this.login(label).user));
    expect(powers, 'the login role exists').to.not.equal(undefined);
    expect([...powers!].sort(), `powers of login "${label}"`).to.deep.equal(expected.split(',').map((power) => power.trim()).sort());
  },
);

/**
 * A clone reset by the clone login is refused while a session of the other login uses the sandbox, naming it; nothing changed.
 */
Then(
  'a clone reset of the sandbox by login {string} is refused because login {string} is connected',
  async function (this: RehearsalWorld, label: string, connected: string) {
    await cloneReset(this, label);
    const named = expectCloneRefusedForSessionOf(lastCloneOutcome(this.cloneReset.reset), this.login(connected).user);
    this.evidence(`clone reset refused, naming: ${named.join('; ')}`);
  },
);

/**
 * Leaves what a crashed clone reset leaves, made with the clone login: "before the drop" (a leftover next database) or
 * "between the drop and the rename" (no sandbox, only the next database).
 *
 * It touches the sandbox's own databases only, on the sandbox's server, so it runs on every target.
 */
Given(
  /^a clone reset by login "([^"]*)" was interrupted (before the drop|between the drop and the rename)$/,
  async function (this: RehearsalWorld, label: string, at: Interruption) {
    putBackAfter(this, label);
    await leaveTargetInterruptedCloneReset(this.target, this.login(label), at);
  },
);

/** The last clone reset repaired what an interrupted one left, and said so with a line containing that text. */
Then('the clone reset reported that it {string}', function (this: RehearsalWorld, text: string) {
  this.evidence(expectRecovered(lastCloneOutcome(this.cloneReset.reset), text));
});

/**
 * The clone login, having taken the clone role (its CREATEDB live), attempts that against prod, in the form the target allows.
 *
 * Every target runs the form safe for a live prod (the attempt rolled back in a bounded transaction, a write EXPLAINed
 * there, or, for DROP, RENAME and CREATE DATABASE, a catalogue query of the rule); a hermetic target then sends the
 * attempt itself too.
 */
When(/^the clone login "([^"]*)" tries to (.+)$/, async function (this: RehearsalWorld, label: string, attempt: string) {
  this.cloneReset.attempt = await attemptCloneFenceOnTarget(this.target, this.login(label), attempt);
});

/**
 * PostgreSQL refused every form of the clone login's attempt that ran, with that SQLSTATE and the message that names the fence.
 *
 * A form that is a catalogue check sends no statement, so it has no SQLSTATE: it is then refused by the catalogue
 * (allowed = false for prod's database, true for the sandbox's), and the evidence says so.
 */
Then('PostgreSQL refuses it with SQLSTATE {sqlstate}, which proves {}', function (this: RehearsalWorld, sqlstate: string, fence: string) {
  this.evidence(expectCloneRefused(this.cloneReset.attempt, sqlstate, fence));
});
