import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { NamingError, type InstanceNames } from '../support/naming';
import { namesOrRefusal } from '../support/naming/derivation';
import type { RehearsalWorld } from '../support/world';

/**
 * Derives every name ADR-0002's elision rule gives the instance (app, env) under the domain.
 *
 * A bad coordinate is not an error here: the rule's refusal is kept for "naming is refused because …".
 */
When(
  'the names of app {string} in env {string} are derived under domain {string}',
  function (this: RehearsalWorld, app: string, env: string, domain: string) {
    const derived = namesOrRefusal(app, env, domain);
    if ('refusal' in derived) this.refusal = derived.refusal;
    else this.names = derived.names;
  },
);

const NAMES: Record<string, keyof InstanceNames> = {
  instance: 'instance',
  database: 'database',
  'owner role': 'ownerRole',
  'Vault credentials path': 'credsPath',
  'Vault KV path': 'kvPath',
  namespace: 'namespace',
  host: 'host',
  'CI JWT role': 'ciJwtRole',
};

function expectName(world: RehearsalWorld, which: string, expected: string): void {
  expect(world.refusal, 'naming was refused').to.equal(undefined);
  expect(world.names![NAMES[which]!], which).to.equal(expected);
}

/** The derived database, Vault credentials path, Vault KV path, namespace or CI JWT role is exactly the one given. */
Then(
  /^the (database|Vault credentials path|Vault KV path|namespace|CI JWT role) is "([^"]*)"$/,
  function (this: RehearsalWorld, which: string, expected: string) {
    expectName(this, which, expected);
  },
);

/** The derived instance name is exactly the one given. */
Then('the instance is {instance}', function (this: RehearsalWorld, expected: string) {
  expectName(this, 'instance', expected);
});

/** The derived PostgreSQL owner role is exactly the one given. */
Then('the owner role is {owner role}', function (this: RehearsalWorld, expected: string) {
  expectName(this, 'owner role', expected);
});

/** The derived DNS host is exactly the one given. */
Then('the host is {host}', function (this: RehearsalWorld, expected: string) {
  expectName(this, 'host', expected);
});

/** The naming rule refused the coordinate, and its message contains the given reason; no name was derived. */
Then('naming is refused because {string}', function (this: RehearsalWorld, reason: string) {
  expect(this.names, 'names were derived although the coordinate is bad').to.equal(undefined);
  expect(this.refusal).to.be.instanceOf(NamingError);
  expect(this.refusal!.message).to.contain(reason);
});
