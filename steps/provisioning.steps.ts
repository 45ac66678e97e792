import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { fixtureShape } from '../fixtures/dolibarr';
import { dumpArchive, entryOwner, listArchive } from '../support/postgres/archive';
import { requireOnTarget } from '../support/not-applicable';
import { expectFixtureCatalogue, expectOwnedByOwnerOrProvisioner, expectReadsAllAndNothingMore } from '../support/postgres/catalog-expectations';
import {
  canCreateIn,
  canExecute,
  databaseOwner,
  functionOwner,
  memberships,
  objectsInPublic,
  privilegesOutside,
  publicShape,
  readAccess,
  roleFlags,
  ROLE_POWERS,
  sessionIdentity,
} from '../support/postgres/catalog';
import { VAULT_USERNAME } from '../support/postgres/minting';
import { userLookupSignature } from '../support/postgres/provision';
import type { RehearsalWorld } from '../support/world';

const list = (names: string) => names.split(',').map((name) => name.trim()).sort();

async function flags(world: RehearsalWorld, role: string) {
  const found = await world.inSharedCatalog((client) => roleFlags(client, role));
  expect(found, `role ${role} exists`).to.not.equal(undefined);
  return found!;
}

/** The database's owner, read from the cluster's catalog, is exactly that owner role. */
Then('database {string} is owned by {owner role}', async function (this: RehearsalWorld, database: string, owner: string) {
  expect(await this.inSharedCatalog((client) => databaseOwner(client, database))).to.equal(owner);
});

/** The role is NOLOGIN: nobody can open a session as it, only become it by SET ROLE. */
Then('role {string} cannot log in', async function (this: RehearsalWorld, role: string) {
  expect((await flags(this, role)).canLogin).to.equal(false);
});

/** The role has LOGIN and CREATEROLE, as the factory's credentials_editor needs to mint login roles. */
Then('role {string} can log in and create roles', async function (this: RehearsalWorld, role: string) {
  const found = await flags(this, role);
  expect(found.canLogin, 'LOGIN').to.equal(true);
  expect(found.createRole, 'CREATEROLE').to.equal(true);
});

/** The role has neither SUPERUSER nor CREATEDB. */
Then('role {string} is not a superuser and cannot create databases', async function (this: RehearsalWorld, role: string) {
  const found = await flags(this, role);
  expect(found.superuser, 'SUPERUSER').to.equal(false);
  expect(found.createDb, 'CREATEDB').to.equal(false);
});

/** The role is a member, with ADMIN OPTION, of exactly the comma-separated roles given, and of no other role. */
Then('role {string} holds ADMIN OPTION on exactly {string}', async function (this: RehearsalWorld, role: string, roles: string) {
  const granted = await this.inSharedCatalog((client) => memberships(client, role));
  expect(granted.filter((grant) => grant.admin).map((grant) => grant.role).sort()).to.deep.equal(list(roles));
  expect(granted.map((grant) => grant.role).sort(), 'every membership').to.deep.equal(list(roles));
});

/** The provisioner's pgbouncer function where the target's layout puts it. */
const userLookup = (world: RehearsalWorld) => userLookupSignature(world.target.config.layout);

/**
 * In that database, the provisioner's pgbouncer lookup function is owned by the provisioner.
 *
 * Where the target's layout puts it: in schema public as provisioned today, in schema pgbouncer hardened.
 */
Then(
  "in database {string} the provisioner's user_lookup is owned by the provisioner",
  async function (this: RehearsalWorld, database: string) {
    const owner = await this.inspect(database, (client) => functionOwner(client, userLookup(this)));
    expect(owner !== undefined && (await this.provisioners())(owner), `owner of ${userLookup(this)}: ${owner}, the provisioner`).to.equal(true);
  },
);

/** In that database, PUBLIC has no EXECUTE on the provisioner's user_lookup. */
Then("in database {string} PUBLIC cannot execute the provisioner's user_lookup", async function (this: RehearsalWorld, database: string) {
  const allowed = await this.inspect(database, (client) => canExecute(client, 'public', userLookup(this)));
  expect(allowed, `PUBLIC may execute ${userLookup(this)}`).to.equal(false);
});

/** In that database, PUBLIC has no CREATE on schema public: only the database's owner role may create objects there. */
Then('in database {string} PUBLIC cannot create objects in schema public', async function (this: RehearsalWorld, database: string) {
  const allowed = await this.inspect(database, (client) => canCreateIn(client, 'public', 'public'));
  expect(allowed, 'PUBLIC may CREATE in schema public').to.equal(false);
});

/** In that database, the role can (or cannot) execute the provisioner's user_lookup. */
Then(
  /^in database "([^"]*)" role "([^"]*)" (can|cannot) execute the provisioner's user_lookup$/,
  async function (this: RehearsalWorld, database: string, role: string, verdict: string) {
    const allowed = await this.inspect(database, (client) => canExecute(client, role, userLookup(this)));
    expect(allowed, `${role} may execute ${userLookup(this)}`).to.equal(verdict === 'can');
  },
);

/**
 * Mints a login role for the instance through its own Vault identity, under the label the scenario gives it.
 *
 * As Vault's database engine does.
 *
 * Every login a scenario mints is revoked after the scenario; the instance must be provisioned on the target.
 */
Given('a login role {string} is minted for instance {instance}', async function (this: RehearsalWorld, label: string, instance: string) {
  this.logins.set(label, await this.target.minter.mint(this.instance(instance)));
});

/** The minted login's username has the shape of Vault's username template (v-<display name>-<role>-…). */
Then('login {string} has a Vault-style username', function (this: RehearsalWorld, label: string) {
  expect(this.login(label).user).to.match(VAULT_USERNAME);
});

/** The minted login connects to the database, and the session is that login in that database. */
Then('login {string} can connect to database {string}', async function (this: RehearsalWorld, label: string, database: string) {
  const identity = await this.as(label, database, sessionIdentity);
  expect(identity).to.deep.equal({ user: this.login(label).user, database });
});

/** The minted login is a member of exactly the comma-separated roles given, with ADMIN OPTION on none. */
Then('login {string} is a member of exactly {string}', async function (this: RehearsalWorld, label: string, roles: string) {
  const granted = await this.inSharedCatalog((client) => memberships(client, this.login(label).user));
  expect(granted.map((grant) => grant.role).sort(), `memberships of login "${label}"`).to.deep.equal(list(roles));
  expect(granted.some((grant) => grant.admin), 'ADMIN OPTION on any role').to.equal(false);
});

/** The minted login has none of SUPERUSER, CREATEDB, CREATEROLE, BYPASSRLS. */
Then('login {string} is not a superuser and cannot create databases or roles', async function (this: RehearsalWorld, label: string) {
  const found = await flags(this, this.login(label).user);
  for (const power of ['SUPERUSER', 'CREATEDB', 'CREATEROLE', 'BYPASSRLS'] as const) expect(found[ROLE_POWERS[power]], `${power} of login "${label}"`).to.equal(false);
});

/** Revokes the minted login, as Vault revokes its lease: the login role is dropped. */
When('login {string} is revoked', async function (this: RehearsalWorld, label: string) {
  await this.target.minter.revoke(this.login(label));
});

/** The minted login's role is gone from the cluster's catalog. */
Then('login {string} no longer exists', async function (this: RehearsalWorld, label: string) {
  expect(await this.inSharedCatalog((client) => roleFlags(client, this.login(label).user))).to.equal(undefined);
});

/**
 * Every object in the database's schema public is owned by that owner role, except the provisioner's user_lookup.
 */
Then(
  "every object in database {string} is owned by {owner role}, except the provisioner's",
  async function (this: RehearsalWorld, database: string, owner: string) {
    const [objects, isProvisioner] = await Promise.all([this.inspect(database, objectsInPublic), this.provisioners()]);
    expectOwnedByOwnerOrProvisioner(objects, owner, isProvisioner);
  },
);

/**
 * The database holds exactly the Dolibarr-shaped fixture's tables, sequences, indexes, views, functions and triggers.
 */
Then("database {string} holds the fixture's whole catalogue", async function (this: RehearsalWorld, database: string) {
  requireOnTarget(this.target.cluster, "the live target's prod is the operator's own Dolibarr, not the harness's fixture");
  expectFixtureCatalogue(await this.inspect(database, publicShape), fixtureShape(), userLookup(this));
});

/** The minted login dumps the database's schema with the cluster's own pg_dump; the archive's contents are kept. */
When(
  "login {string} dumps the schema of database {string} with the cluster's pg_dump",
  async function (this: RehearsalWorld, label: string, database: string) {
    const login = this.login(label);
    const archive = await dumpArchive(this.target.tools, login, database, ['--schema-only']);
    this.archive = await listArchive(this.target.tools, login, archive);
  },
);

/** The last archive's table of contents has an entry for the provisioner's user_lookup, owned by the provisioner. */
Then("the archive lists the provisioner's user_lookup, owned by the provisioner", async function (this: RehearsalWorld) {
  const owner = entryOwner(this.archive!, 'FUNCTION', userLookup(this));
  expect(owner !== undefined && (await this.provisioners())(owner), `the archive's entry of ${userLookup(this)}, owned by ${owner}, the provisioner`).to.equal(true);
});

/** The last archive's table of contents has an entry ending with the given text (kind, schema, name, owner). */
Then('the archive lists {string}', function (this: RehearsalWorld, entry: string) {
  expect(this.archive!.some((line) => line.endsWith(` ${entry}`)), `an archive entry ending in "${entry}"`).to.equal(true);
});

/**
 * The role may SELECT every table, view and sequence the owner role owns in that database, and holds no other
 * privilege on any of them.
 *
 * Read after the fixture was loaded by the owner role: what the provisioning granted then, default privileges covered.
 */
Then(
  'role {string} may read everything {owner role} owns in database {string}, and do nothing more to it',
  async function (this: RehearsalWorld, role: string, owner: string, database: string) {
    const access = await this.inspect(database, (client) => readAccess(client, role, owner));
    expectReadsAllAndNothingMore(access, `${owner} in ${database}`, role);
  },
);

/**
 * Neither the role nor any role it is a member of owns anything or holds a privilege in any database of the cluster
 * but that one, nor on any shared object but that database (the shared dependency catalog, every database at once).
 */
Then('role {string} holds nothing in any database but {string}', async function (this: RehearsalWorld, role: string, database: string) {
  const found = await this.inSharedCatalog((client) => privilegesOutside(client, role, database));
  expect(found, `what ${role} holds outside ${database}`).to.deep.equal([]);
});
