import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allInstances, ConfigError, loadConfig, parseApplications } from '../support/config';

describe('loadConfig', () => {
  it('defaults to the hermetic target with erp × [prod, sandbox]', () => {
    const config = loadConfig({});
    assert.equal(config.target, 'hermetic');
    assert.equal(config.prod.database, 'erp');
    assert.equal(config.sandbox.database, 'erp-sandbox');
    assert.deepEqual(allInstances(config).map((names) => names.instance), ['erp', 'erp-sandbox']);
    assert.equal(config.postgres.provider, 'auto');
    assert.equal(config.fixture.scale, 1);
  });

  it('provisions extra applications like the tfvars list, envs defaulting to prod', () => {
    assert.deepEqual(parseApplications('webapp erp:prod,sandbox'), [
      { name: 'webapp', envs: ['prod'] },
      { name: 'erp', envs: ['prod', 'sandbox'] },
    ]);
    const config = loadConfig({ ERP_REHEARSAL_APPLICATIONS: 'webapp erp:prod,sandbox' });
    assert.deepEqual(allInstances(config).map((names) => names.ownerRole), ['webapp_role', 'erp_role', 'erp_sandbox_role']);
  });

  it('reports every bad value at once, one line each', () => {
    assert.throws(
      () =>
        loadConfig({
          ERP_REHEARSAL_PG_PROVIDER: 'podman',
          ERP_REHEARSAL_FIXTURE_SCALE: '-1',
          ERP_REHEARSAL_FIXTURE_SEED: 'abc',
          ERP_REHEARSAL_TARGET: 'staging',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 4);
        assert.match(error.message, /ERP_REHEARSAL_PG_PROVIDER="podman"/);
        assert.match(error.message, /ERP_REHEARSAL_FIXTURE_SCALE="-1"/);
        assert.match(error.message, /ERP_REHEARSAL_FIXTURE_SEED="abc"/);
        assert.match(error.message, /ERP_REHEARSAL_TARGET="staging"/);
        return true;
      },
    );
  });

  it('refuses applications that do not provision the pair the gates use', () => {
    assert.throws(() => loadConfig({ ERP_REHEARSAL_APPLICATIONS: 'erp' }), /must provision app "erp" with envs "prod" and "sandbox"/);
    assert.throws(() => loadConfig({ ERP_REHEARSAL_APPLICATIONS: 'erp:prod,Sandbox' }), /uppercase/);
  });
});
