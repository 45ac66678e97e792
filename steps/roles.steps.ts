import { Then } from '@cucumber/cucumber';
import { expect } from 'chai';
import { roleFlags } from '../support/postgres/catalog';
import type { RehearsalWorld } from '../support/world';

const POWERS = { SUPERUSER: 'superuser', CREATEDB: 'createDb', CREATEROLE: 'createRole', REPLICATION: 'replication', BYPASSRLS: 'bypassRls' } as const;

Then('login {string} has none of SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS', async function (this: RehearsalWorld, label: string) {
  const flags = await this.inSharedCatalog((client) => roleFlags(client, this.login(label).user));
  expect(flags, 'the login role exists').to.not.equal(undefined);
  for (const [power, flag] of Object.entries(POWERS)) expect(flags![flag], power).to.equal(false);
});
