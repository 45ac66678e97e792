/** The template-clone reset's pure parts: its names, and a database ACL rendered as the statements that reproduce it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instanceNames } from '../support/naming';
import { cloneNames, CloneNamingError } from '../support/naming/template-clone';
import { cloneRoleSql } from '../support/postgres/provision-clone';
import { goldenMark } from '../support/lifecycle/template-clone-golden';
import { databaseAclStatements } from '../support/postgres/database-acl';
import {
  CloneAttemptDefinitionError,
  cloneAttempt,
  cloneAttempts,
  defineCloneAttempt,
  notRefusedAsExpected,
  type CloneAttempt,
  type CloneAttemptOutcome,
} from '../support/postgres/clone-fence';

describe('the template-clone names', () => {
  const sandbox = instanceNames('erp', 'sandbox');

  it("derive from the sandbox's names", () => {
    const names = cloneNames(sandbox);
    assert.equal(names.role, 'erp_sandbox_clone_role');
    assert.equal(names.ownerRole, 'erp_sandbox_role');
    assert.equal(names.goldenDatabase, 'erp-sandbox-golden');
    assert.equal(names.buildingDatabase, 'erp-sandbox-golden-building');
    assert.equal(names.nextDatabase, 'erp-sandbox-next');
    assert.deepEqual([names.vaultRole, names.policy, names.serviceAccount, names.namespace], ['erp-sandbox-clone', 'erp-sandbox-clone', 'erp-sandbox-clone', 'erp-sandbox']);
    assert.equal(names.credsPath, 'postgres/creds/erp-sandbox-clone');
  });

  it("give the minter an identity of its own, on the sandbox's database", () => {
    const { minting } = cloneNames(sandbox);
    assert.equal(minting.instance, 'erp-sandbox-clone');
    assert.equal(minting.credsPath, 'postgres/creds/erp-sandbox-clone');
    assert.equal(minting.vaultRole, 'erp-sandbox-clone');
    assert.equal(minting.ownerRole, 'erp_sandbox_clone_role');
    assert.equal(minting.database, 'erp-sandbox');
  });

  it("keep hyphens of the app and env, as the owner role does", () => {
    assert.equal(cloneNames(instanceNames('dance-lessons-coach', 'sandbox')).role, 'dance-lessons-coach_sandbox_clone_role');
  });

  it('refuse a name PostgreSQL would truncate', () => {
    assert.throws(() => cloneNames(instanceNames('a'.repeat(40), 'sandbox')), CloneNamingError);
  });

  it('are provisioned as a NOLOGIN CREATEDB member of the owner role only, which credentials_editor administers', () => {
    assert.deepEqual(cloneRoleSql(sandbox), [
      'CREATE ROLE "erp_sandbox_clone_role" NOLOGIN CREATEDB',
      'GRANT "erp_sandbox_role" TO "erp_sandbox_clone_role"',
      'GRANT "erp_sandbox_clone_role" TO credentials_editor WITH ADMIN OPTION',
    ]);
  });
});

describe("a database's ACL as statements", () => {
  it('is nothing for the default ACL (NULL), which a new database has too', () => {
    assert.deepEqual(databaseAclStatements('erp-sandbox-next', 'erp_sandbox_role', null), []);
  });

  it("reproduces the hardened layout's: only the owner role connects", () => {
    const entries = ['CREATE', 'TEMPORARY', 'CONNECT'].map((privilege) => ({ grantee: 'erp_sandbox_role', privilege, grantable: false }));
    assert.deepEqual(databaseAclStatements('erp-sandbox-next', 'erp_sandbox_role', entries), [
      'REVOKE ALL ON DATABASE "erp-sandbox-next" FROM PUBLIC',
      'REVOKE ALL ON DATABASE "erp-sandbox-next" FROM "erp_sandbox_role"',
      'GRANT CONNECT, CREATE, TEMPORARY ON DATABASE "erp-sandbox-next" TO "erp_sandbox_role"',
    ]);
  });

  it('groups by grantee and grant option, PUBLIC first, and quotes every name', () => {
    const statements = databaseAclStatements('x"y', 'own', [
      { grantee: 'b"role', privilege: 'CONNECT', grantable: true },
      { grantee: null, privilege: 'TEMPORARY', grantable: false },
      { grantee: null, privilege: 'CONNECT', grantable: false },
      { grantee: 'b"role', privilege: 'TEMPORARY', grantable: false },
    ]);
    assert.deepEqual(statements.slice(2), [
      'GRANT CONNECT, TEMPORARY ON DATABASE "x""y" TO PUBLIC',
      'GRANT TEMPORARY ON DATABASE "x""y" TO "b""role"',
      'GRANT CONNECT ON DATABASE "x""y" TO "b""role" WITH GRANT OPTION',
    ]);
  });

  it('an empty ACL (everything revoked) revokes and grants nothing back', () => {
    assert.deepEqual(databaseAclStatements('d', 'o', []), ['REVOKE ALL ON DATABASE "d" FROM PUBLIC', 'REVOKE ALL ON DATABASE "d" FROM "o"']);
  });
});

describe("the clone credential's attempts on prod", () => {
  const context = { prod: instanceNames('erp', 'prod'), sandbox: instanceNames('erp', 'sandbox') };
  const drop = cloneAttempt(context, 'drop database erp');

  it('name the fence in each layout: no CONNECT on prod (hardened), or no privilege on its table (as provisioned)', () => {
    const read = cloneAttempt(context, 'read prod table llx_societe').refusal.message;
    assert.match('permission denied for database "erp"', read);
    assert.match('permission denied for table llx_societe', read);
    assert.doesNotMatch('permission denied for schema public', read);
  });

  it('never have DROP, RENAME or CREATE DATABASE as a live form: those are asked of the catalogue, of prod and of the sandbox', () => {
    const byKind = Object.fromEntries(cloneAttempts(context).map((attempt) => [attempt.attempt, attempt.live.kind]));
    assert.deepEqual(byKind, {
      'drop database erp': 'catalogue',
      'rename database erp': 'catalogue',
      'copy database erp as a template': 'catalogue',
      'read prod table llx_societe': 'rollback',
      'write prod table llx_societe': 'rollback',
      'set role erp_role': 'rollback',
    });
    assert.ok(drop.live.kind === 'catalogue');
    assert.match(drop.live.query('erp'), /d\.datname = 'erp'/);
    assert.match(drop.live.query('erp-sandbox'), /d\.datname = 'erp-sandbox'/);
  });

  it('cannot be defined with a live form that could change prod', () => {
    const unsafe: CloneAttempt[] = [
      // DROP DATABASE in a rolled-back form: it cannot be rolled back.
      { ...drop, live: { kind: 'rollback' } },
      { ...drop, transactional: true, live: { kind: 'rollback' } },
      // A catalogue query that writes, runs text as SQL, or is the same whatever the database.
      { ...drop, live: { kind: 'catalogue', rule: 'r', query: (database) => `SELECT true AS allowed FROM pg_database WHERE datname = '${database}' FOR UPDATE` } },
      { ...drop, live: { kind: 'catalogue', rule: 'r', query: (database) => `SELECT query_to_xml('DROP TABLE x', true, true, '${database}') IS NULL AS allowed` } },
      { ...drop, live: { kind: 'catalogue', rule: 'r', query: () => 'SELECT false AS allowed' } },
      { ...drop, live: { kind: 'catalogue', rule: ' ', query: (database) => `SELECT datname = '${database}' AS allowed FROM pg_database` } },
      // A rolled-back statement that lifts its own bounds, or ends the transaction that rolls it back.
      { ...drop, transactional: true, statement: "SET lock_timeout = '0'", live: { kind: 'rollback' } },
      { ...drop, transactional: true, statement: 'COMMIT', live: { kind: 'rollback' } },
      { ...drop, refusal: { sqlstate: '42501', message: /must be owner/ } },
    ];
    for (const attempt of unsafe) assert.throws(() => defineCloneAttempt(attempt, context), CloneAttemptDefinitionError, attempt.statement);
  });

  it('prove the fence only when every form the target calls for was refused for its reason', () => {
    const refusedLive = { form: 'live', sql: 'q', verdict: 'refused', refusedAt: 'catalogue', message: 'catalogue: allowed = false' } as const;
    const refusedReal = { form: 'real', sql: 's', verdict: 'refused', refusedAt: 'statement', sqlstate: '42501', message: 'must be owner of database erp' } as const;
    const outcome = (form: 'hermetic' | 'live', results: CloneAttemptOutcome['results']): CloneAttemptOutcome => ({ attempt: drop, itselfToo: form === 'hermetic', results });
    assert.deepEqual(notRefusedAsExpected(outcome('live', [refusedLive]), '42501'), []);
    assert.deepEqual(notRefusedAsExpected(outcome('hermetic', [refusedLive, refusedReal]), '42501'), []);
    // A hermetic target that did not send the attempt itself, a form allowed or refused otherwise, another SQLSTATE.
    assert.equal(notRefusedAsExpected(outcome('hermetic', [refusedLive]), '42501').length, 1);
    assert.equal(notRefusedAsExpected(outcome('live', [{ ...refusedLive, verdict: 'allowed' }]), '42501').length, 1);
    assert.equal(notRefusedAsExpected(outcome('hermetic', [refusedLive, { ...refusedReal, verdict: 'wrong reason' }]), '42501').length, 1);
    assert.equal(notRefusedAsExpected(outcome('live', [refusedLive]), '42P01').length, 1);
  });

  it('mark the golden database with the golden it holds', () => {
    assert.equal(goldenMark({ dir: '', archivePath: '', listPath: '', manifest: { root: 'abc' } as never }), 'erp-rehearsal golden abc');
  });
});
