import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instanceNames, NamingError } from '../support/naming';

describe('instanceNames (ADR-0002 elision rule)', () => {
  it('elides prod: every name of erp is the single-env name', () => {
    assert.deepEqual(instanceNames('erp', 'prod', 'arcodange.lab'), {
      app: 'erp',
      env: 'prod',
      instance: 'erp',
      database: 'erp',
      ownerRole: 'erp_role',
      credsPath: 'postgres/creds/erp',
      kvPath: 'kvv2/erp/config',
      namespace: 'erp',
      vaultRole: 'erp',
      ciJwtRole: 'gitea_cicd_erp',
      host: 'erp.arcodange.lab',
    });
  });

  it('suffixes a non-prod env in kebab-case, except the snake-case owner role', () => {
    const names = instanceNames('erp', 'sandbox', 'arcodange.lab');
    assert.equal(names.instance, 'erp-sandbox');
    assert.equal(names.database, 'erp-sandbox');
    assert.equal(names.ownerRole, 'erp_sandbox_role');
    assert.equal(names.credsPath, 'postgres/creds/erp-sandbox');
    assert.equal(names.kvPath, 'kvv2/erp-sandbox/config');
    assert.equal(names.host, 'erp-sandbox.arcodange.lab');
    assert.equal(names.ciJwtRole, 'gitea_cicd_erp', 'the CI JWT role is shared by all envs');
  });

  it('defaults env to prod and the domain to arcodange.lab', () => {
    assert.equal(instanceNames('webapp').host, 'webapp.arcodange.lab');
  });

  it('keeps hyphens of a kebab-case app in the owner role, as postgres/iac renders it', () => {
    assert.equal(instanceNames('dance-lessons-coach').ownerRole, 'dance-lessons-coach_role');
    assert.equal(instanceNames('dance-lessons-coach', 'staging').ownerRole, 'dance-lessons-coach_staging_role');
  });

  const refused: [string, string, string, RegExp][] = [
    ['', 'prod', 'arcodange.lab', /app is empty/],
    ['erp', '', 'arcodange.lab', /env is empty/],
    ['Erp', 'prod', 'arcodange.lab', /uppercase/],
    ['erp', 'SANDBOX', 'arcodange.lab', /uppercase/],
    ['erp_app', 'prod', 'arcodange.lab', /underscores/],
    ['erp', 'sand_box', 'arcodange.lab', /underscores/],
    ['erp', 'prod-eu', 'arcodange.lab', /prod with a suffix/],
    ['erp', 'eu-prod', 'arcodange.lab', /prod with a suffix/],
    ['erp', 'sandbox-', 'arcodange.lab', /not kebab-case/],
    ['erp', 'sand--box', 'arcodange.lab', /not kebab-case/],
    ['1erp', 'prod', 'arcodange.lab', /not kebab-case/],
    ['erp', 'sandbox', 'Arcodange.lab', /domain/],
    ['erp', 'sandbox', 'lab', /domain/],
    ['a'.repeat(60), 'sandbox', 'arcodange.lab', /63-character/],
  ];
  for (const [app, env, domain, message] of refused) {
    it(`refuses app "${app.slice(0, 12)}" env "${env}" domain "${domain}"`, () => {
      assert.throws(() => instanceNames(app, env, domain), (error: unknown) => {
        assert.ok(error instanceof NamingError);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('accepts an env that merely contains the letters of prod', () => {
    assert.equal(instanceNames('erp', 'preprod', 'arcodange.lab').instance, 'erp-preprod');
  });
});
