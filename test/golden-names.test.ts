import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instanceNames } from '../support/naming';
import { goldenNames, GoldenNamingError } from '../support/naming/golden';

describe('goldenNames (the read-only golden identity of prod)', () => {
  it("derives every name of erp's golden identity from prod's names", () => {
    const prod = instanceNames('erp');
    const names = goldenNames(prod);
    assert.deepEqual(
      { ...names, minting: undefined },
      {
        readerRole: 'erp_reader_role',
        ownerRole: 'erp_role',
        database: 'erp',
        vaultRole: 'erp-golden',
        policy: 'erp-golden',
        namespace: 'erp',
        serviceAccount: 'erp-golden',
        credsPath: 'postgres/creds/erp-golden',
        ciJwtRole: 'gitea_cicd_erp_golden',
        minting: undefined,
      },
    );
  });

  it('mints as its own instance: the reader role, its own creds path and Vault role, in prod\'s database', () => {
    const prod = instanceNames('erp', 'prod', 'example.org');
    const { minting } = goldenNames(prod);
    assert.deepEqual(minting, {
      ...prod,
      instance: 'erp-golden',
      ownerRole: 'erp_reader_role',
      credsPath: 'postgres/creds/erp-golden',
      vaultRole: 'erp-golden',
    });
    assert.equal(minting.database, 'erp', 'its logins connect to prod');
    assert.equal(minting.host, 'erp.example.org');
  });

  it('keeps the hyphens of a kebab-case app, as the owner role does', () => {
    const names = goldenNames(instanceNames('dance-lessons-coach'));
    assert.equal(names.readerRole, 'dance-lessons-coach_reader_role');
    assert.equal(names.vaultRole, 'dance-lessons-coach-golden');
    assert.equal(names.ciJwtRole, 'gitea_cicd_dance-lessons-coach_golden');
  });

  it("accepts a reader role of exactly 63 characters and refuses one longer (PostgreSQL's identifier limit)", () => {
    // `<app>_reader_role` is the app's name plus 12 characters.
    assert.equal(goldenNames(instanceNames('a'.repeat(51))).readerRole.length, 63);
    assert.throws(() => goldenNames(instanceNames('a'.repeat(52))), (error: unknown) => {
      assert.ok(error instanceof GoldenNamingError);
      assert.match(error.message, /reader role "a{52}_reader_role" is longer than PostgreSQL's 63-character limit: shorten the app's name/);
      return true;
    });
  });

  it('refuses the names of an instance other than prod: the golden is read from prod', () => {
    assert.throws(() => goldenNames(instanceNames('erp', 'sandbox')), (error: unknown) => {
      assert.ok(error instanceof GoldenNamingError);
      assert.match(error.message, /read from prod, not from "erp-sandbox"/);
      return true;
    });
  });
});
