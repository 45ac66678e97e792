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

When('it reads {string}', async function (this: RehearsalWorld, path: string) {
  await attemptRead(this, this.vaultSession!, path);
});

Then('it may read {string}', async function (this: RehearsalWorld, path: string) {
  this.attach(await read(this.vaultSession!, path), 'text/plain');
});

Then('Vault refuses it with HTTP {int} {string}', function (this: RehearsalWorld, status: number, message: string) {
  expectRefusal(this, status, message);
});

When("prod's workload reads {string}", async function (this: RehearsalWorld, path: string) {
  await attemptRead(this, await workload(this, this.target.prod.instance), path);
});

Then("prod's workload may read {string}", async function (this: RehearsalWorld, path: string) {
  this.attach(await read(await workload(this, this.target.prod.instance), path), 'text/plain');
});

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

// The message may itself quote a claim name: everything between the first and the last double quote.
Then(/^Vault refuses the login with HTTP (\d{3}), saying "(.*)"$/, function (this: RehearsalWorld, status: string, message: string) {
  expectRefusal(this, Number(status), message);
});

Then('the login succeeds with the policies of {string}', function (this: RehearsalWorld, instance: string) {
  expect(this.refusal?.message, 'the login was refused').to.equal(undefined);
  expect(this.vaultSession?.identity?.policies).to.include(this.instance(instance).instance);
});

Then(
  'login {string} was issued by Vault at {string} to Kubernetes auth role {string}',
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

Then('Vault no longer holds the lease of login {string}', function (this: RehearsalWorld, label: string) {
  const held = this.target.vault.hermetic?.leases();
  if (!held) throw new NotApplicable(`the ${this.target.kind} target cannot list Vault's leases`);
  expect(held.map((lease) => lease.leaseId)).to.not.include(this.login(label).leaseId);
});

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

Then('login {string} still exists', async function (this: RehearsalWorld, label: string) {
  const user = this.login(label).user;
  expect(await this.inSharedCatalog((client) => roleFlags(client, user)), `${user} in pg_roles`).to.not.equal(undefined);
});
