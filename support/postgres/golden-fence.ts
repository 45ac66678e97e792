import type { Client } from 'pg';
import type { InstanceNames } from '../naming';
import { goldenNames } from '../naming/golden';
import type { Endpoint, Login } from './cluster';
import { sessionIdentity } from './catalog';
import { connect, ident, literal, type SessionOptions } from './connect';
import { askCatalogue, BOUNDS, nonTransactionalConstructs, runBounded, withoutLiterals } from './probes';
import { isServerAnswer, serverError, type ServerError } from './server-error';

/**
 * What prod's read-only golden identity (support/naming/golden.ts) must not be able to do, anywhere: each attempt made
 * by a golden login in a plain session — not the read-only session the golden itself opens, so that what refuses it
 * is the reader role's privileges alone — and the exact refusal PostgreSQL 15 gives (measured on a cluster laid out
 * like the factory's, in both layouts).
 *
 * Safe against a live prod even if the fence were broken: a transactional attempt runs inside the probes' bounded
 * BEGIN … ROLLBACK (`SET LOCAL lock_timeout = '50ms'` and a statement_timeout, read back before the attempt: a lock
 * prod's sessions hold makes it give up at once, never queue them behind it); an attempt whose effect survives ROLLBACK (DROP and CREATE DATABASE, nextval) runs on
 * a hermetic target only, and only once its catalogue check has said it would be refused; a live target runs that
 * check alone, in a READ ONLY transaction. The safety of both forms is checked when an attempt is defined, with the
 * probe catalogue's list of what ROLLBACK does not undo (support/postgres/probes/probe.ts).
 */

export interface GoldenFenceContext {
  readonly prod: InstanceNames;
  readonly sandbox: InstanceNames;
}

export interface GoldenAttempt {
  /** What an auditor reads, e.g. 'update prod table llx_societe'. */
  readonly attempt: string;
  /** The database the session connects to. */
  readonly database: 'prod' | 'sandbox';
  readonly statement: string;
  /** false: its effect survives ROLLBACK or it cannot run in a transaction block (then `live` is required). */
  readonly transactional: boolean;
  /** The read-only check a live target runs instead of a non-transactional statement: one row `{ allowed }`. */
  readonly live?: { readonly query: string; readonly rule: string };
  /** Run by the same login after a non-transactional attempt that was allowed, so a broken fence leaves nothing behind. */
  readonly undo?: string;
  /** `message` is anchored (^…$) on the server's primary message. */
  readonly refusal: { readonly sqlstate: string; readonly message: RegExp };
}

export type GoldenForm = 'hermetic' | 'live';

export interface GoldenAttemptOutcome {
  readonly attempt: GoldenAttempt;
  readonly form: GoldenForm;
  /** What ran: the statement, or the catalogue check. */
  readonly sql: string;
  readonly verdict: 'refused' | 'allowed' | 'wrong reason';
  readonly refusedAt?: 'connection' | 'statement' | 'catalogue';
  readonly sqlstate?: string;
  readonly message?: string;
  /** current_user and current_database() of the session, when it was opened. */
  readonly ranAs?: { readonly user: string; readonly database: string };
}

export class GoldenAttemptDefinitionError extends Error {
  override readonly name = 'GoldenAttemptDefinitionError';
}

const DENIED = '42501';

const SESSION: SessionOptions = { applicationName: 'erp-rehearsal golden fence' };

function exactly(...messages: string[]): RegExp {
  const escaped = messages.map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^(?:${escaped.join('|')})$`);
}

/** A statement that would end the transaction that rolls it back, or lift the bounds it runs under. */
const ESCAPES = /^\s*(BEGIN|START|COMMIT|END|ROLLBACK|ABORT|PREPARE|SAVEPOINT|RELEASE|SET\s+TRANSACTION|SET\s+SESSION|CALL|DO)\b|\b(lock_timeout|statement_timeout|set_config|RESET)\b/i;

/** Words that make a SELECT write or lock rows. */
const WRITES = /\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|INTO|FOR\s+(NO\s+KEY\s+)?UPDATE|FOR\s+(KEY\s+)?SHARE)\b/i;

function problemsOfRollback(sql: string): string[] {
  const problems: string[] = [];
  const found = nonTransactionalConstructs(sql);
  if (found.length > 0) problems.push(`the statement contains ${found.join(', ')}: its effect survives ROLLBACK (or it cannot run in a transaction block)`);
  if (ESCAPES.test(sql)) problems.push('the statement controls the transaction or its timeouts: it could escape the rollback or its bounds');
  if (sql.trim().replace(/;\s*$/, '').includes(';')) problems.push('the statement holds more than one statement (a ";")');
  return problems;
}

function problemsOfCatalogue(query: string): string[] {
  const problems: string[] = [];
  const outsideLiterals = withoutLiterals(query);
  if (!/^\s*(SELECT|WITH)\b/i.test(query) || query.includes(';')) problems.push('the catalogue check is not one SELECT');
  const writes = outsideLiterals.match(WRITES);
  if (writes) problems.push(`the catalogue check contains ${writes[0]!.toUpperCase()}: it must only read`);
  const found = nonTransactionalConstructs(outsideLiterals);
  if (found.length > 0) problems.push(`the catalogue check contains ${found.join(', ')}: it must only read`);
  if (!/\ballowed\b/.test(query)) problems.push('the catalogue check must return a column named "allowed"');
  return problems;
}

/** The attempt, once it is well-formed and each form that may reach a live prod cannot change it. */
export function defineGoldenAttempt(attempt: GoldenAttempt): GoldenAttempt {
  const problems: string[] = [];
  if (!/^[0-9A-Z]{5}$/.test(attempt.refusal.sqlstate)) problems.push(`SQLSTATE "${attempt.refusal.sqlstate}" is not five characters`);
  const { source } = attempt.refusal.message;
  if (!source.startsWith('^') || !source.endsWith('$')) problems.push(`the refusal ${attempt.refusal.message} is not anchored (^…$)`);
  if (attempt.transactional) {
    problems.push(...problemsOfRollback(attempt.statement));
  } else if (attempt.live === undefined) {
    problems.push('a statement that cannot be rolled back needs a catalogue check for live targets');
  } else {
    problems.push(...problemsOfCatalogue(attempt.live.query));
    if (attempt.live.rule.trim() === '') problems.push('the catalogue check needs the rule it reads');
  }
  if (problems.length > 0) {
    throw new GoldenAttemptDefinitionError(`golden attempt "${attempt.attempt}" cannot be defined:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return attempt;
}

/** Every attempt of the golden identity's fence, aimed at the context's prod and sandbox. */
export function goldenAttempts(context: GoldenFenceContext): readonly GoldenAttempt[] {
  const { prod, sandbox } = context;
  const erp = prod.database;
  const owner = ident(prod.ownerRole);
  const reader = goldenNames(prod).readerRole;
  const societe = 'public.llx_societe';
  const sequence = literal('public.llx_societe_rowid_seq');
  const probeName = `${prod.instance}-golden-probe`;
  const noTablePrivilege = { sqlstate: DENIED, message: exactly('permission denied for table llx_societe') };
  const notTableOwner = { sqlstate: DENIED, message: exactly('must be owner of table llx_societe') };
  /** The sandbox's door (hardened: no CONNECT) or, past it (as provisioned), the table's own privileges. */
  const sandboxRefusal = { sqlstate: DENIED, message: exactly(`permission denied for database "${sandbox.database}"`, 'permission denied for table llx_societe') };
  const ownsDatabase = (database: string) =>
    `SELECT pg_has_role(current_user, d.datdba, 'USAGE') OR r.rolsuper AS allowed FROM pg_catalog.pg_database d, pg_catalog.pg_roles r WHERE d.datname = ${literal(database)} AND r.rolname = current_user`;

  const attempts: GoldenAttempt[] = [
    // ── writing prod ────────────────────────────────────────────────────────────────────────────
    // rowid given: the serial default would call nextval, which ROLLBACK does not undo.
    { attempt: 'insert into prod table llx_societe', database: 'prod', transactional: true, refusal: noTablePrivilege,
      statement: `INSERT INTO ${societe} (rowid, nom) VALUES (-1, ${literal('erp-rehearsal golden fence')})` },
    { attempt: 'update prod table llx_societe', database: 'prod', transactional: true, refusal: noTablePrivilege,
      statement: `UPDATE ${societe} SET nom = nom WHERE rowid = 1` },
    { attempt: 'delete from prod table llx_societe', database: 'prod', transactional: true, refusal: noTablePrivilege,
      statement: `DELETE FROM ${societe} WHERE rowid = -1` },
    { attempt: 'truncate prod table llx_societe', database: 'prod', transactional: true, refusal: noTablePrivilege,
      statement: `TRUNCATE ${societe} CASCADE` },
    // Any mode above ACCESS SHARE needs UPDATE, DELETE or TRUNCATE; checked before the lock is queued for.
    { attempt: 'lock prod table llx_societe against its readers', database: 'prod', transactional: true, refusal: noTablePrivilege,
      statement: `LOCK TABLE ${societe} IN ACCESS EXCLUSIVE MODE` },
    { attempt: 'advance prod sequence llx_societe_rowid_seq', database: 'prod', transactional: false,
      refusal: { sqlstate: DENIED, message: exactly('permission denied for sequence llx_societe_rowid_seq') },
      statement: `SELECT nextval(${sequence})`,
      live: {
        query: `SELECT has_sequence_privilege(current_user, ${sequence}, 'USAGE, UPDATE') AS allowed`,
        rule: 'nextval needs USAGE or UPDATE on the sequence (SELECT only reads it); it is not rolled back, so it never runs live',
      } },
    // ── altering prod ───────────────────────────────────────────────────────────────────────────
    { attempt: 'alter prod table llx_societe', database: 'prod', transactional: true, refusal: notTableOwner,
      statement: `ALTER TABLE ${societe} ADD COLUMN erp_rehearsal_probe integer` },
    { attempt: `change a setting of database ${erp}`, database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`must be owner of database ${erp}`) },
      statement: `ALTER DATABASE ${ident(erp)} SET work_mem = ${literal('64MB')}` },
    // ── dropping ────────────────────────────────────────────────────────────────────────────────
    { attempt: 'drop prod table llx_societe', database: 'prod', transactional: true, refusal: notTableOwner,
      statement: `DROP TABLE ${societe} CASCADE` },
    { attempt: 'drop the trigger function update_modified_column_tms', database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly('must be owner of function public.update_modified_column_tms') },
      statement: 'DROP FUNCTION public.update_modified_column_tms() CASCADE' },
    // The ownership check comes before "cannot drop the currently open database": prod's own session will do.
    ...[prod, sandbox].map((instance): GoldenAttempt => ({
      attempt: `drop database ${instance.database}`, database: 'prod', transactional: false,
      refusal: { sqlstate: DENIED, message: exactly(`must be owner of database ${instance.database}`) },
      statement: `DROP DATABASE ${ident(instance.database)}`,
      live: { query: ownsDatabase(instance.database), rule: 'DROP DATABASE needs the privileges of its owner (or superuser); it cannot be rolled back, so it never runs live' },
    })),
    // ── creating ────────────────────────────────────────────────────────────────────────────────
    { attempt: `create a table in schema public of ${erp}`, database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly('permission denied for schema public') },
      statement: 'CREATE TABLE public.erp_rehearsal_probe (x integer)' },
    { attempt: `create a schema in database ${erp}`, database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`permission denied for database ${erp}`) },
      statement: 'CREATE SCHEMA erp_rehearsal_probe' },
    { attempt: 'create a role', database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly('permission denied to create role') },
      statement: `CREATE ROLE ${ident(probeName)}` },
    { attempt: 'create a database', database: 'prod', transactional: false,
      refusal: { sqlstate: DENIED, message: exactly('permission denied to create database') },
      statement: `CREATE DATABASE ${ident(probeName)}`,
      live: {
        query: 'SELECT rolcreatedb OR rolsuper AS allowed FROM pg_catalog.pg_roles WHERE rolname = current_user',
        rule: 'CREATE DATABASE needs the CREATEDB attribute (not inherited) or superuser; it cannot be rolled back, so it never runs live',
      },
      undo: `DROP DATABASE IF EXISTS ${ident(probeName)}` },
    // ── granting, and becoming another role ─────────────────────────────────────────────────────
    // A GRANT on an object the grantor holds a privilege on, without grant option, is only a WARNING: these are errors.
    { attempt: `give its read access to ${sandbox.ownerRole}`, database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`must have admin option on role "${reader}"`) },
      statement: `GRANT ${ident(reader)} TO ${ident(sandbox.ownerRole)}` },
    { attempt: `grant ${prod.ownerRole} to itself`, database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`must have admin option on role "${prod.ownerRole}"`) },
      statement: `GRANT ${owner} TO CURRENT_USER` },
    { attempt: `set role ${prod.ownerRole}`, database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`permission denied to set role "${prod.ownerRole}"`) },
      statement: `SET ROLE ${owner}` },
    { attempt: "open prod's future tables to every role", database: 'prod', transactional: true,
      refusal: { sqlstate: DENIED, message: exactly(`must be member of role "${prod.ownerRole}"`) },
      statement: `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC` },
    // ── the sandbox ─────────────────────────────────────────────────────────────────────────────
    { attempt: 'read sandbox table llx_societe', database: 'sandbox', transactional: true, refusal: sandboxRefusal,
      statement: `SELECT count(*) FROM ${societe}` },
    { attempt: 'update sandbox table llx_societe', database: 'sandbox', transactional: true, refusal: sandboxRefusal,
      statement: `UPDATE ${societe} SET nom = nom WHERE rowid = 1` },
  ];
  return attempts.map(defineGoldenAttempt);
}

export function goldenAttempt(context: GoldenFenceContext, name: string): GoldenAttempt {
  const attempts = goldenAttempts(context);
  const found = attempts.find((candidate) => candidate.attempt === name);
  if (!found) throw new Error(`no golden attempt "${name}"; known: ${attempts.map((known) => known.attempt).join('; ')}`);
  return found;
}


/** The catalogue check's answer (asked in a bounded READ ONLY transaction), or the error that kept it from giving one. */
async function catalogueCheck(client: Client, query: string): Promise<boolean | ServerError> {
  const { allowed, error } = await askCatalogue(client, query);
  if (error) return error;
  return typeof allowed === 'boolean' ? allowed : { message: `the catalogue check did not return one row with a boolean "allowed" (got ${JSON.stringify(allowed)})` };
}

function verdictOf(attempt: GoldenAttempt, error: ServerError): 'refused' | 'wrong reason' {
  return error.code === attempt.refusal.sqlstate && attempt.refusal.message.test(error.message) ? 'refused' : 'wrong reason';
}

/**
 * Makes the attempt as the golden login, in the form `form` allows. Never throws for what the server answers; throws
 * if the harness cannot reach the server at all.
 */
export async function attemptAsGolden(
  endpoint: (database: string) => Endpoint,
  login: Login,
  context: GoldenFenceContext,
  name: string,
  form: GoldenForm,
): Promise<GoldenAttemptOutcome> {
  const attempt = goldenAttempt(context, name);
  const database = attempt.database === 'prod' ? context.prod.database : context.sandbox.database;
  let client: Client;
  try {
    client = await connect(endpoint(database), login, database, SESSION);
  } catch (error) {
    const { code, message } = serverError(error);
    if (!isServerAnswer({ code, message })) throw error; // not the server's answer: the harness could not reach it
    return { attempt, form, sql: attempt.statement, verdict: verdictOf(attempt, { code, message }), refusedAt: 'connection', sqlstate: code, message };
  }
  try {
    const ranAs = await sessionIdentity(client);
    if (attempt.transactional) {
      const error = await runBounded(client, attempt.statement);
      if (!error) return { attempt, form, sql: attempt.statement, ranAs, verdict: 'allowed' };
      return { attempt, form, sql: attempt.statement, ranAs, verdict: verdictOf(attempt, error), refusedAt: 'statement', sqlstate: error.code, message: error.message };
    }
    const { query } = attempt.live!;
    const checked = await catalogueCheck(client, query);
    if (typeof checked !== 'boolean') return { attempt, form, sql: query, ranAs, verdict: 'wrong reason', refusedAt: 'catalogue', sqlstate: checked.code, message: checked.message };
    if (checked) return { attempt, form, sql: query, ranAs, verdict: 'allowed', message: 'catalogue: allowed = true; the statement itself was not sent' };
    if (form === 'live') return { attempt, form, sql: query, ranAs, verdict: 'refused', refusedAt: 'catalogue', message: 'catalogue: allowed = false' };
    // Hermetic only, and only now that the catalogue says it will be refused: the statement itself, bounded.
    await client.query(`SET lock_timeout = '${BOUNDS.lockTimeout}'`);
    await client.query(`SET statement_timeout = '${BOUNDS.statementTimeout}'`);
    try {
      await client.query(attempt.statement);
    } catch (caught) {
      const error = serverError(caught);
      return { attempt, form, sql: attempt.statement, ranAs, verdict: verdictOf(attempt, error), refusedAt: 'statement', sqlstate: error.code, message: error.message };
    }
    if (attempt.undo) await client.query(attempt.undo).catch(() => undefined);
    return { attempt, form, sql: attempt.statement, ranAs, verdict: 'allowed' };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** One line for a report or an assertion. */
export function describeGoldenOutcome(outcome: GoldenAttemptOutcome): string {
  const head = `${outcome.attempt.attempt} [${outcome.form}]`;
  const who = outcome.ranAs ? ` as ${outcome.ranAs.user} in ${outcome.ranAs.database}` : '';
  const answer = outcome.sqlstate ? `${outcome.sqlstate} ${outcome.message ?? ''}`.trim() : (outcome.message ?? '');
  switch (outcome.verdict) {
    case 'refused':
      return `${head}: refused at the ${outcome.refusedAt} — ${answer}${who}`;
    case 'allowed':
      return `${head}: ALLOWED${who}: ${outcome.sql}${outcome.message ? ` (${outcome.message})` : ''} — the golden identity's fence did not hold`;
    case 'wrong reason':
      return `${head}: refused for the WRONG REASON${who}${outcome.refusedAt ? ` at the ${outcome.refusedAt}` : ''} — expected ${outcome.attempt.refusal.sqlstate} ${outcome.attempt.refusal.message}, got ${answer || 'nothing'}`;
  }
}
