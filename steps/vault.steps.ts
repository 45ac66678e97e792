import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { roleFlags } from '../support/postgres/catalog';
import { RevocationError } from '../support/postgres/minting';
import { VaultError, VaultSession } from '../support/vault';
import { NotApplicable } from '../support/not-applicable';
import { loginAttempt } from '../support/vault-fence/credentials';
import type { RehearsalWorld } from '../support/world';

/** Opens (and keeps for the After hook) a session of `instance`'s workload identity. */
async function workload(world: RehearsalWorld, instance: string): Promise<VaultSession> {
  const { vault } = world.target;
  const session = new VaultSession(vault.identity(world.instance(instance)), { lookup: vault.lookup });
  world.vaultSessions.push(session);
  await session.login();
  return session;
}

function hermeticIssuers(world: RehearsalWorld) {
  const hermetic = world.target.vault.hermetic;
  if (!hermetic) throw new NotApplicable(`the ${world.target.kind} target holds no issuer Vault trusts: it cannot forge logins`);
  return hermetic;
}

/** Reads a Vault path as `session`: KV v2 config, or database credentials (a lease, revoked with the session). */
async function read(session: VaultSession, path: string): Promise<string> {
  if (path.startsWith('kvv2/')) {
    const kv = await session.readKv(path);
    return `${path} version ${kv.version}: ${Object.keys(kv.values).sort().join(', ')}`;
  }
  const lease = await session.databaseCredentials(path, { autoRenew: false });
  return `${path}: lease ${lease.leaseId} for ${lease.username}`;
}

function expectRefusal(world: RehearsalWorld, status: number, message: string): void {
  const refusal = world.refusal;
  expect(refusal, 'Vault refused').to.be.instanceOf(VaultError);
  const { status: actual, errors } = refusal as VaultError;
  expect(actual, refusal!.message).to.equal(status);
  expect(errors.join(' | '), refusal!.message).to.contain(message);
  world.attach(refusal!.message, 'text/plain');
}

/**
 * The sandbox's workload logs in to Vault with its own identity; the next steps act as it.
 *
 * Kubernetes auth as role erp-sandbox, with the workload's service-account token.
 */
Given("the sandbox's workload is logged in to Vault", async function (this: RehearsalWorld) {
  this.vaultSession = await workload(this, this.target.sandbox.instance);
});

/** Reads `path` as `session`, keeping Vault's refusal for the Then steps. */
async function attemptRead(world: RehearsalWorld, session: VaultSession, path: string): Promise<void> {
  world.refusal = undefined;
  try {
    world.attach(await read(session, path), 'text/plain');
  } catch (error) {
    world.refusal = error as Error;
  }
}

/** The logged-in identity reads that Vault path (KV v2 or database credentials); a refusal is kept. */
When('it reads {string}', async function (this: RehearsalWorld, path: string) {
  await attemptRead(this, this.vaultSession!, path);
});

/** The logged-in identity reads that Vault path successfully. */
Then('it may read {string}', async function (this: RehearsalWorld, path: string) {
  this.attach(await read(this.vaultSession!, path), 'text/plain');
});

/** Vault refused the last read with that HTTP status, and its errors contain the given message. */
Then('Vault refuses it with HTTP {http status} {string}', function (this: RehearsalWorld, status: number, message: string) {
  expectRefusal(this, status, message);
});

/** Prod's workload logs in with its own identity and reads that Vault path; a refusal is kept for the next steps. */
When("prod's workload reads {string}", async function (this: RehearsalWorld, path: string) {
  await attemptRead(this, await workload(this, this.target.prod.instance), path);
});

/** The positive control: prod's workload, logged in with its own identity, reads that Vault path successfully. */
Then("prod's workload may read {string}", async function (this: RehearsalWorld, path: string) {
  this.attach(await read(await workload(this, this.target.prod.instance), path), 'text/plain');
});

/**
 * Attempts a Vault login with the credential described (forged, expired, misdirected or valid).
 *
 * A refusal is kept for the next steps.
 *
 * Credentials: prod's service-account token, as role erp-sandbox; an expired CI token, a CI token for another audience,
 * signed by an unknown issuer, or of another repository, as role gitea_cicd_erp; a valid CI token, as role
 * gitea_cicd_erp. Hermetic target only: it forges tokens with the run's issuers.
 */
When(/^a Vault login is attempted with (.+)$/, async function (this: RehearsalWorld, credential: string) {
  const auth = await loginAttempt(credential, this.target.config, hermeticIssuers(this).issuers, this.target.workDir);
  const { vault } = this.target;
  const session = new VaultSession({ address: vault.address, ca: vault.ca, auth }, { lookup: vault.lookup });
  this.vaultSessions.push(session);
  this.refusal = undefined;
  this.vaultSession = undefined;
  try {
    await session.login();
    this.vaultSession = session;
  } catch (error) {
    this.refusal = error as Error;
  }
});

/**
 * Vault refused the last login with that HTTP status, and its errors contain the message.
 *
 * The message may itself quote a claim name: it is everything between the first and the last double quote.
 */
Then('Vault refuses the login with HTTP {http status}, saying "{}"', function (this: RehearsalWorld, status: number, message: string) {
  expectRefusal(this, status, message);
});

/** The last login succeeded, and its token carries the policy of that instance. */
Then('the login succeeds with the policies of {instance}', function (this: RehearsalWorld, instance: string) {
  expect(this.refusal?.message, 'the login was refused').to.equal(undefined);
  expect(this.vaultSession?.identity?.policies).to.include(this.instance(instance).instance);
});

/**
 * The minted login came from Vault at that credentials path, through Kubernetes auth as that role.
 *
 * Its username follows Vault's template for Kubernetes auth, and Vault holds its lease.
 */
Then(
  'login {string} was issued by Vault at {string} to Kubernetes auth role {instance}',
  function (this: RehearsalWorld, label: string, path: string, role: string) {
    const login = this.login(label);
    expect(login.vault, 'where the login came from').to.deep.include({ path, auth: 'kubernetes', role });
    expect(login.leaseId.startsWith(`${path}/`), `lease ${login.leaseId}`).to.equal(true);
    // Vault's username template: v-<display name ≤ 8>-<role ≤ 8>-…; Kubernetes auth's display name starts "kubernetes-".
    expect(login.user.startsWith(`v-kubernet-${role.slice(0, 8)}-`), login.user).to.equal(true);
    const held = this.target.vault.hermetic?.leases();
    if (held) expect(held.map((lease) => [lease.leaseId, lease.username])).to.deep.include([login.leaseId, login.user]);
  },
);

/** Vault no longer lists the minted login's lease (hermetic target only: it lists the stand-in's leases). */
Then('Vault no longer holds the lease of login {string}', function (this: RehearsalWorld, label: string) {
  const held = this.target.vault.hermetic?.leases();
  if (!held) throw new NotApplicable(`the ${this.target.kind} target cannot list Vault's leases`);
  expect(held.map((lease) => lease.leaseId)).to.not.include(this.login(label).leaseId);
});

/** Revoking the minted login fails (SQLSTATE 2BP01), naming that object as ownership drift owned by the login. */
Then(
  'revoking login {string} fails, naming ownership drift {string}',
  async function (this: RehearsalWorld, label: string, object: string) {
    const login = this.login(label);
    const failure = await this.target.minter.revoke(login).then(() => undefined, (error: Error) => error);
    expect(failure, 'the revocation failed').to.be.instanceOf(RevocationError);
    expect((failure as RevocationError).code).to.equal('2BP01');
    expect(failure!.message).to.contain(`ownership drift: ${object} owned by ${login.user}`);
    this.attach(failure!.message, 'text/plain');
  },
);

/** The minted login's role is still in the cluster's catalog. */
Then('login {string} still exists', async function (this: RehearsalWorld, label: string) {
  const user = this.login(label).user;
  expect(await this.inSharedCatalog((client) => roleFlags(client, user)), `${user} in pg_roles`).to.not.equal(undefined);
});
