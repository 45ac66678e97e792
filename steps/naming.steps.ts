import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { instanceNames, NamingError, type InstanceNames } from '../support/naming';
import type { RehearsalWorld } from '../support/world';

When(
  'the names of app {string} in env {string} are derived under domain {string}',
  function (this: RehearsalWorld, app: string, env: string, domain: string) {
    try {
      this.names = instanceNames(app, env, domain);
    } catch (error) {
      if (!(error instanceof NamingError)) throw error;
      this.refusal = error;
    }
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

Then(
  /^the (instance|database|owner role|Vault credentials path|Vault KV path|namespace|host|CI JWT role) is "([^"]*)"$/,
  function (this: RehearsalWorld, which: string, expected: string) {
    expect(this.refusal, 'naming was refused').to.equal(undefined);
    expect(this.names![NAMES[which]!], which).to.equal(expected);
  },
);

Then('naming is refused because {string}', function (this: RehearsalWorld, reason: string) {
  expect(this.names, 'names were derived although the coordinate is bad').to.equal(undefined);
  expect(this.refusal).to.be.instanceOf(NamingError);
  expect(this.refusal!.message).to.contain(reason);
});
