import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { goldenNames } from '../support/naming/golden';
import { privilegesOutside } from '../support/postgres/catalog';
import { expectReadsAllAndNothingMore } from '../support/postgres/catalog-expectations';
import { expectGoldenRefused, expectReadOnlyRefusal } from '../support/postgres/fence-expectations';
import { goldenAttempts } from '../support/postgres/golden-fence';
import { onConfiguredIdentity } from '../support/targets/applicability';
import {
  attemptOnTarget,
  countProdRowsAsGolden,
  goldenJobVaultSession,
  goldenVaultSession,
  mintGoldenLogin,
  prodReadAccessOf,
  writeInGoldenSession,
} from '../support/targets/golden-identity';
import { actAs, expectExactPolicies } from '../support/vault-fence/logins';
import type { RehearsalWorld } from '../support/world';

/**
 * Mints a login of prod's read-only golden identity through Vault, by its own identity (Kubernetes role `<prod>-golden`,
 * creds `postgres/creds/<prod>-golden`), kept under that label and revoked after the scenario.
 *
 * Not applicable where the target has no golden identity configured.
 */
Given("a golden login {string} is minted through Vault for prod's read-only golden identity", async function (this: RehearsalWorld, label: string) {
  this.logins.set(label, await onConfiguredIdentity(() => mintGoldenLogin(this.target)));
});

/**
 * The golden login, in a plain session (not the golden's read-only one), attempts that, as the golden identity's fence
 * names it.
 *
 * Inside BEGIN … ROLLBACK with a 50 ms lock timeout. A live target sends the attempt's form safe for a live prod alone: a
 * write's EXPLAIN, or a catalogue check for what cannot be rolled back (DROP and CREATE DATABASE, nextval), fires prod's
 * triggers (TRUNCATE) or locks before its check (CREATE TRIGGER, ALTER DATABASE … SET, DROP FUNCTION); a hermetic one
 * sends the attempt itself too, once that form was refused.
 */
When(/^the golden login "([^"]*)" tries to (.+)$/, async function (this: RehearsalWorld, label: string, attempt: string) {
  this.goldenFence.attempt = await attemptOnTarget(this.target, this.login(label), attempt);
});

/**
 * PostgreSQL refused the golden login's last attempt with that SQLSTATE and the message that names the fence.
 *
 * A live form that is a catalogue check sends no statement, so it has no SQLSTATE: it is then refused by the catalogue,
 * and the evidence says so.
 */
Then("PostgreSQL refuses the golden login's attempt with SQLSTATE {sqlstate}, which proves {}", function (this: RehearsalWorld, sqlstate: string, fence: string) {
  this.evidence(expectGoldenRefused(this.goldenFence.attempt, sqlstate, fence));
});

/** The golden login makes every attempt of its fence, one after the other, whatever each one's outcome. */
When('the golden login {string} makes every attempt of its fence', async function (this: RehearsalWorld, label: string) {
  for (const { attempt } of goldenAttempts({ prod: this.target.prod, sandbox: this.target.sandbox })) {
    await attemptOnTarget(this.target, this.login(label), attempt);
  }
});

/** In a session opened exactly as the golden opens one, the login counts the rows of that prod table: the read succeeds. */
Then('login {string} reads prod table {string} in a session opened as the golden opens it', async function (this: RehearsalWorld, label: string, table: string) {
  const rows = await countProdRowsAsGolden(this.target, this.login(label), table);
  expect(rows, `rows of ${table} read by login "${label}"`).to.be.greaterThan(0);
  this.evidence(`SELECT count(*) FROM public.${table} as ${this.login(label).user}: ${rows} rows`);
});

/**
 * The login may SELECT every table, view and sequence prod's owner role owns in prod, and holds no other privilege
 * on any of them (INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER; USAGE or UPDATE on sequences).
 */
Then("login {string} may read everything prod's owner role owns in prod, and do nothing more to it", async function (this: RehearsalWorld, label: string) {
  const access = await prodReadAccessOf(this.target, this.login(label));
  expectReadsAllAndNothingMore(access, "prod's owner role", `login "${label}"`);
  this.evidence(`SELECT on all ${access.relations} relations of ${this.target.prod.ownerRole}, nothing more`);
});

/**
 * Neither the login nor any role it is a member of owns anything or holds a privilege in any database of the cluster
 * other than prod, nor on any shared object but prod's database (the shared dependency catalog, every database at once).
 */
Then('login {string}, and every role it can become, holds nothing in any database but prod', async function (this: RehearsalWorld, label: string) {
  const found = await this.inSharedCatalog((client) => privilegesOutside(client, this.login(label).user, this.target.prod.database));
  expect(found, `what login "${label}" holds outside ${this.target.prod.database}`).to.deep.equal([]);
});

/**
 * In a session opened exactly as the golden opens one (read-only, and checked to be), the golden login attempts that
 * write of its fence, inside BEGIN … ROLLBACK.
 */
When(/^in a session opened as the golden opens it, the golden login "([^"]*)" tries to (.+)$/, async function (this: RehearsalWorld, label: string, attempt: string) {
  this.goldenFence.sessionWrite = await writeInGoldenSession(this.target, this.login(label), attempt);
});

/** The golden's session says it is read-only, and refused the write with that SQLSTATE as a write in a read-only transaction. */
Then('the session is read-only, and PostgreSQL refuses the write with SQLSTATE {sqlstate}', function (this: RehearsalWorld, sqlstate: string) {
  this.evidence(expectReadOnlyRefusal(this.goldenFence.sessionWrite, sqlstate));
});

/**
 * The golden identity's workload logs in to Vault with its own identity; the next Vault steps act as it.
 *
 * Kubernetes auth as role `<prod>-golden`, with its own service account's token. Not applicable where the target has
 * no golden identity configured.
 */
Given("the golden identity's workload is logged in to Vault", async function (this: RehearsalWorld) {
  await actAs(this, await onConfiguredIdentity(() => goldenVaultSession(this.target)));
  if (this.refusal) throw this.refusal;
});

/**
 * The golden job logs in to Vault as its own CI role (`gitea_cicd_<app>_golden`) with a CI token of that repository;
 * a refusal is kept for the next steps.
 *
 * Hermetic: a token of the run's CI issuer; live: the run's own, when it logs in as the golden job's CI role.
 */
When("the golden job logs in to Vault with a CI token of repository {string}", async function (this: RehearsalWorld, repository: string) {
  await actAs(this, goldenJobVaultSession(this.target, repository));
});

/** The last Vault login succeeded, and its token carries exactly the comma-separated policies (beside Vault's `default`). */
Then("the Vault login's policies are exactly {string}", function (this: RehearsalWorld, policies: string) {
  const held = expectExactPolicies(this, policies);
  this.evidence(`Vault ${this.vaultSession?.identity?.method ?? '?'} login: policies ${held.join(', ')} (the golden's: ${goldenNames(this.target.prod).policy})`);
});
