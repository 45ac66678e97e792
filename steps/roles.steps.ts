import { Then } from '@cucumber/cucumber';
import { expect } from 'chai';
import { powersWithin } from '../support/postgres/catalog';
import type { RehearsalWorld } from '../support/world';

/**
 * Neither the minted login nor any role it is a member of has SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS.
 */
Then(
  'login {string}, and every role it can become, has none of SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS',
  async function (this: RehearsalWorld, label: string) {
    const powers = await this.inSharedCatalog((client) => powersWithin(client, this.login(label).user));
    expect(powers, 'the login role exists').to.not.equal(undefined);
    expect(powers, `powers of login "${label}"`).to.deep.equal([]);
  },
);

/** Neither the role nor any role it is a member of holds SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS. */
Then('role {string} has none of SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS', async function (this: RehearsalWorld, role: string) {
  const powers = await this.inSharedCatalog((client) => powersWithin(client, role));
  expect(powers, `role ${role} exists`).to.not.equal(undefined);
  expect(powers, `powers of role ${role}`).to.deep.equal([]);
});
