import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { roleFlags } from '../support/postgres/catalog';
import type { VaultSession } from '../support/vault';
import { expectIssuedBy, expectLeaseRevoked, expectRevocationRefusedForDrift } from '../support/vault-fence/leases';
import { actAs, expectVaultRefusal, openSession } from '../support/vault-fence/logins';
import { attemptedRead, attemptRead, expectDenied, expectSandboxMayRead, read, refusalOf, sandboxCounterpart } from '../support/vault-fence/reads';
import { probeForm } from '../support/targets/probes';
import { loginAttemptSession, workloadSession } from '../support/targets/vault-logins';
import type { RehearsalWorld } from '../support/world';

/** Opens (and keeps for the After hook) a session of `instance`'s workload identity. */
const workload = (world: RehearsalWorld, instance: string): Promise<VaultSession> => openSession(world, workloadSession(world.target, world.instance(instance)));

/** Whether the target lets a fence read really be sent: a hermetic Vault only; elsewhere the fence is asked instead. */
const sendsReads = (world: RehearsalWorld): boolean => probeForm(world.target) === 'hermetic';

/**
 * The sandbox's workload logs in to Vault with its own identity; the next steps act as it.
 *
 * Kubernetes auth as role erp-sandbox, with the workload's service-account token.
 */
Given("the sandbox's workload is logged in to Vault", async function (this: RehearsalWorld) {
  this.vaultSession = await workload(this, this.target.sandbox.instance);
});

/**
 * The logged-in identity tries to read that Vault path (KV v2 or database credentials); the outcome is kept.
 *
 * Vault is asked what the identity may do there (sys/capabilities-self) on every target; a hermetic Vault also gets the
 * read itself, which a broken policy would answer with prod's login or prod's API key.
 */
When('it reads {string}', async function (this: RehearsalWorld, path: string) {
  this.vaultRead = await attemptRead(this.vaultSession!, path, sendsReads(this));
});

/** The logged-in identity reads that Vault path successfully. */
Then('it may read {string}', async function (this: RehearsalWorld, path: string) {
  this.attach(await read(this.vaultSession!, path), 'text/plain');
});

/**
 * Vault refused the last read with that HTTP status, and its errors contain the given message.
 *
 * Where the read was sent (hermetic), Vault's refusal itself; on every target, Vault's own answer that the identity's
 * policies deny the path, the refusal an ACL gives (403 permission denied).
 */
Then('Vault refuses it with HTTP {http status} {string}', function (this: RehearsalWorld, status: number, message: string) {
  const attempt = attemptedRead(this.vaultRead);
  if (attempt.read !== undefined) this.attach(expectVaultRefusal(refusalOf(attempt.read), status, message), 'text/plain');
  this.evidence(expectDenied(attempt, status, message));
});

/** Prod's workload logs in with its own identity and tries to read that Vault path, as the sandbox's does above. */
When("prod's workload reads {string}", async function (this: RehearsalWorld, path: string) {
  this.vaultRead = await attemptRead(await workload(this, this.target.prod.instance), path, sendsReads(this));
});

/**
 * The positive control: the path's refusal is the fence, not a path Vault does not know.
 *
 * Prod's workload, logged in with its own identity, reads that Vault path (hermetic: only there is prod's identity
 * held); and on every target its mirror: the sandbox's identity may read the sandbox's own counterpart, as Vault's
 * capabilities answer says.
 */
Then("prod's workload may read {string}", async function (this: RehearsalWorld, path: string) {
  if (sendsReads(this)) this.attach(await read(await workload(this, this.target.prod.instance), path), 'text/plain');
  const mirror = sandboxCounterpart(path, this.target.prod, this.target.sandbox);
  await expectSandboxMayRead(this.vaultSession ?? await workload(this, this.target.sandbox.instance), mirror);
});

/**
 * Attempts a Vault login with the credential described (forged, expired, misdirected or valid).
 *
 * A refusal is kept for the next steps.
 *
 * Credentials: prod's service-account token, as role erp-sandbox; an expired CI token, a CI token for another audience,
 * signed by an unknown issuer, or of another repository, as role gitea_cicd_erp; a valid CI token, as role
 * gitea_cicd_erp. Those that need an issuer Vault trusts are made on the hermetic target only; a token signed by an
 * unknown issuer is made on every target, and a live run logging in as the CI role has its own valid CI token.
 */
When(/^a Vault login is attempted with (.+)$/, async function (this: RehearsalWorld, credential: string) {
  await actAs(this, await loginAttemptSession(this.target, credential));
});

/**
 * Vault refused the last login with that HTTP status, and its errors contain the message.
 *
 * The message may itself quote a claim name: it is everything between the first and the last double quote.
 */
Then('Vault refuses the login with HTTP {http status}, saying "{}"', function (this: RehearsalWorld, status: number, message: string) {
  this.attach(expectVaultRefusal(this.refusal, status, message), 'text/plain');
});

/** The last login succeeded, and its token carries the policy of that instance. */
Then('the login succeeds with the policies of {instance}', function (this: RehearsalWorld, instance: string) {
  expect(this.refusal?.message, 'the login was refused').to.equal(undefined);
  expect(this.vaultSession?.identity?.policies).to.include(this.instance(instance).instance);
});

/**
 * The minted login came from Vault at that credentials path, through the Vault role and auth method its workload's
 * identity is configured with (hermetic: Kubernetes auth as the instance's role; a live CI run: JWT auth as the app's).
 *
 * Its username follows Vault's template for that role, and (hermetic) Vault holds its lease.
 */
Then('login {string} was issued by Vault at {string} to its workload\'s own Vault role', function (this: RehearsalWorld, label: string, path: string) {
  const login = this.login(label);
  expectIssuedBy(login, path, this.workloadRoleOf(login), this.target.vault.hermetic?.leases());
});

/**
 * Vault no longer holds the minted login's lease.
 *
 * Vault answered its revocation: the revocation is synchronous, so Vault answers only once its revocation statements
 * ran and the lease is deleted, and only then does the session that obtained it let it go. A hermetic Vault is also
 * asked for its list of leases.
 */
Then('Vault no longer holds the lease of login {string}', async function (this: RehearsalWorld, label: string) {
  const { leaseId, instance } = this.login(label);
  this.evidence(await expectLeaseRevoked(leaseId, this.target.vault.hermetic?.leases(), () => this.target.minter.session(this.instance(instance))));
});

/** Revoking the minted login fails (SQLSTATE 2BP01), naming that object as ownership drift owned by the login. */
Then(
  'revoking login {string} fails, naming ownership drift {string}',
  async function (this: RehearsalWorld, label: string, object: string) {
    const login = this.login(label);
    this.attach(await expectRevocationRefusedForDrift(this.target.minter.revoke(login), login, object), 'text/plain');
  },
);

/** The minted login's role is still in the cluster's catalog. */
Then('login {string} still exists', async function (this: RehearsalWorld, label: string) {
  const user = this.login(label).user;
  expect(await this.inSharedCatalog((client) => roleFlags(client, user)), `${user} in pg_roles`).to.not.equal(undefined);
});
