import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { creationStatements, renderStatements, VAULT_USERNAME, vaultExpiration, vaultUsername } from '../support/postgres/minting';

describe('Vault-style minting', () => {
  it('names login roles with Vault\'s default template, within 63 characters', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    const name = vaultUsername('kubernetes', 'erp-sandbox', now);
    assert.match(name, /^v-kubernet-erp-sand-[A-Za-z0-9]{20}-1795608000$/);
    assert.match(name, VAULT_USERNAME);
    assert.ok(name.length <= 63);
    assert.notEqual(vaultUsername('token', 'erp', now), vaultUsername('token', 'erp', now), 'random part differs');
  });

  it('formats expirations like Go\'s 2006-01-02 15:04:05-0700', () => {
    assert.equal(vaultExpiration(new Date('2026-11-25T23:04:05.678Z')), '2026-11-25 23:04:05+0000');
  });

  it('renders the factory creation statement: a login and one membership', () => {
    const sql = renderStatements(creationStatements('erp_sandbox_role'), {
      name: 'v-token-erp-sand-x',
      password: 'pw',
      expiration: '2026-11-25 23:04:05+0000',
    });
    assert.equal(
      sql,
      `CREATE ROLE "v-token-erp-sand-x" WITH LOGIN PASSWORD 'pw' VALID UNTIL '2026-11-25 23:04:05+0000'; GRANT "erp_sandbox_role" TO "v-token-erp-sand-x";`,
    );
  });
});
