import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditStatements, describeViolation, loggedStatements, notReads } from '../support/postgres/statement-audit';

const line = (session: string, db: string, text: string, user = 'v-kubernet-erp-sand-x') =>
  `2026-11-26 03:00:00.123 UTC [4242] db=${db} user=${user} session=${session} LOG:  statement: ${text}`;

describe('auditStatements', () => {
  it('accepts reads, and changes rolled back', () => {
    const log = [
      line('a', 'erp', 'SELECT count(*) FROM llx_societe'),
      line('a', 'erp', 'BEGIN'),
      line('a', 'erp', 'INSERT INTO llx_societe (nom) VALUES (1)'),
      line('a', 'erp', 'ROLLBACK'),
      line('b', 'erp', 'BEGIN; DROP TABLE llx_societe; ROLLBACK'),
      line('c', 'erp', 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'),
      line('c', 'erp', 'SELECT 1'),
      line('c', 'erp', 'COMMIT'),
      line('d', 'erp-sandbox', 'DELETE FROM llx_societe'),
    ].join('\n');
    assert.deepEqual(auditStatements(log, 'erp'), []);
  });

  it('flags changes outside a transaction, committed, or never ended; and DROP DATABASE anywhere', () => {
    const log = [
      line('a', 'erp', 'UPDATE llx_societe SET nom = 1'),
      line('b', 'erp', 'BEGIN'),
      line('b', 'erp', 'ALTER TABLE llx_societe\n\tADD COLUMN x int'),
      line('b', 'erp', 'COMMIT'),
      line('c', 'erp', 'SELECT pg_terminate_backend(42)'),
      line('d', 'postgres', 'DROP DATABASE erp'),
      line('e', 'erp', 'BEGIN'),
      line('e', 'erp', 'TRUNCATE llx_societe'),
    ].join('\n');
    const extended = '2026-11-26 03:00:00.123 UTC [4242] db=erp user=u session=f LOG:  execute <unnamed>: DELETE FROM llx_societe WHERE rowid = $1';
    assert.deepEqual(auditStatements(extended, 'erp').map((v) => v.why), ['outside a transaction']);
    const found = auditStatements(log, 'erp').map(describeViolation);
    assert.deepEqual(found.map((text) => text.split(':')[0]), ['outside a transaction', 'committed', 'outside a transaction', 'DROP DATABASE', 'in a transaction that never ended']);
    assert.match(found[1]!, /ALTER TABLE llx_societe ADD COLUMN x int/);
  });

  it('lets only the databases named droppable be dropped, however the name is written', () => {
    const log = [
      line('a', 'postgres', 'DROP DATABASE "erp-sandbox"'),
      line('a', 'postgres', 'DROP DATABASE IF EXISTS "erp-sandbox-next"'),
      line('b', 'postgres', 'DROP DATABASE ERP'),
      line('b', 'postgres', 'DROP DATABASE "erp"'),
      line('b', 'postgres', 'drop database'),
    ].join('\n');
    const found = auditStatements(log, 'erp', ['erp-sandbox', 'erp-sandbox-next']).map((violation) => violation.statement.text);
    assert.deepEqual(found, ['DROP DATABASE ERP', 'DROP DATABASE "erp"', 'drop database']);
  });

  it('finds what is not a read, committed or rolled back: settings, share locks, reading WITH queries and all a READ ONLY transaction runs are reads, but for signals', () => {
    const log = [
      line('a', 'erp', 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1; COMMIT'),
      line('b', 'erp', 'BEGIN'),
      line('b', 'erp', 'UPDATE llx_societe SET nom = nom'),
      line('b', 'erp', 'ROLLBACK'),
      line('c', 'erp', "SELECT setval('s', 1)"),
      line('d', 'erp', 'SELECT set_config(name, value, true) FROM unnest($1::text[], $2::text[]) AS s(name, value)'),
      line('d', 'erp', "SELECT pg_catalog.set_config('search_path', '', false)"),
      line('e', 'erp', 'LOCK TABLE public.llx_societe IN ACCESS SHARE MODE'),
      line('e', 'erp', 'LOCK TABLE public.llx_societe IN EXCLUSIVE MODE'),
      line('f', 'erp', 'BEGIN'),
      line('f', 'erp', 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY'),
      line('f', 'erp', "EXECUTE dumpFunc('19896')"),
      line('f', 'erp', 'SELECT pg_terminate_backend(42)'),
      line('g', 'erp', 'WITH RECURSIVE w AS (SELECT 1) SELECT * FROM w'),
      line('g', 'erp', 'WITH gone AS (DELETE FROM llx_societe RETURNING *) SELECT * FROM gone'),
    ].join('\n');
    assert.deepEqual(notReads(loggedStatements(log)).map((statement) => statement.text), [
      'UPDATE llx_societe SET nom = nom', "SELECT setval('s', 1)", 'LOCK TABLE public.llx_societe IN EXCLUSIVE MODE',
      'SELECT pg_terminate_backend(42)', 'WITH gone AS (DELETE FROM llx_societe RETURNING *) SELECT * FROM gone',
    ]);
  });

  it('joins multi-line statements and ignores other log entries', () => {
    const log = [line('a', 'erp', 'SELECT 1,'), '\t2', '2026-11-26 03:00:00.123 UTC [4242] db=erp user=u session=a ERROR:  boom'].join('\n');
    assert.deepEqual(loggedStatements(log).map((s) => s.text), ['SELECT 1,\n2']);
  });
});
