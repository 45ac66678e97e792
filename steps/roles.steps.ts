import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { attempt, statementNamed } from '../support/postgres/attempt';
import { roleFlags } from '../support/postgres/catalog';
import type { RehearsalWorld } from '../support/world';

const POWERS = { SUPERUSER: 'superuser', CREATEDB: 'createDb', CREATEROLE: 'createRole', REPLICATION: 'replication', BYPASSRLS: 'bypassRls' } as const;

Then('login {string} has none of SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS', async function (this: RehearsalWorld, label: string) {
  const flags = await this.inspect('postgres', (client) => roleFlags(client, this.login(label).user));
  expect(flags, 'the login role exists').to.not.equal(undefined);
  for (const [power, flag] of Object.entries(POWERS)) expect(flags![flag], power).to.equal(false);
});

When(
  /^login "([^"]*)" attempts to (.+) in database "([^"]*)"$/,
  async function (this: RehearsalWorld, label: string, action: string, database: string) {
    this.attempt = await attempt(this.target.cluster.endpoint, this.login(label), database, statementNamed(action));
  },
);

Then('the attempt ran as login {string} in database {string}', function (this: RehearsalWorld, label: string, database: string) {
  expect(this.attempt, 'an attempt was made').to.not.equal(undefined);
  expect(this.attempt!.identity).to.deep.equal({ user: this.login(label).user, database });
});

Then('the attempt was refused with SQLSTATE {word}', function (this: RehearsalWorld, sqlstate: string) {
  expect(this.attempt!.succeeded, `the attempt succeeded: ${this.attempt!.message ?? ''}`).to.equal(false);
  expect(this.attempt!.sqlstate, this.attempt!.message).to.equal(sqlstate);
});
